//! Calling blocking client functions (synchronous commit, metadata) from async code, and the
//! blocking look-ups several clients share.

use std::time::Duration;

use rdkafka::consumer::{Consumer, ConsumerContext};

use crate::error::KafkaError;

/// Runs a blocking client call without stalling other tasks on a multi-threaded runtime; on a
/// current-thread runtime (or none) it just runs it, since there is no other worker to protect.
pub(crate) fn run_blocking<T>(call: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(call)
        }
        _ => call(),
    }
}

/// Every partition of `topic` with its low and high watermarks (blocking; call it through
/// [`run_blocking`]).
pub(crate) fn watermarks<C: ConsumerContext>(
    consumer: &impl Consumer<C>,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, i64, i64)>, KafkaError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|error| KafkaError::client("topic metadata", &error))?;
    metadata
        .topics()
        .iter()
        .flat_map(|topic| topic.partitions())
        .map(|partition| {
            let (low, high) = consumer
                .fetch_watermarks(topic, partition.id(), timeout)
                .map_err(|error| KafkaError::client("partition watermarks", &error))?;
            Ok((partition.id(), low, high))
        })
        .collect()
}
