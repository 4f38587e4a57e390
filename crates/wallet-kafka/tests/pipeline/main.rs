//! Integration tests of the Kafka pipeline: the embedded (mock) Kafka cluster in process and
//! the real store on MariaDB, one fresh database and one cluster per test.

mod support;

mod faults;
mod outbox;
mod panics;
mod poison;
mod rebalance;
mod restart;
mod story;
