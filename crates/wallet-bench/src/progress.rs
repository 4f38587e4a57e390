//! When did the service commit what: the consumer group's committed offsets, polled from the
//! broker every few milliseconds.
//!
//! The wallet commits an offset only after the database transaction that applied the records
//! before it committed (SPEC §4 "Delivery"), so "offset `o` of partition `p` is committed" is
//! the moment record `(p, o)` is durably applied and acknowledged. The sum of the committed
//! offsets over the partitions of a fresh topic is the number of records done. The poll runs on
//! a thread of its own (each fetch is a blocking round trip); its period bounds the error of
//! each observed commit time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Period of the committed-offset poll: the resolution of every commit time.
pub const POLL_PERIOD: Duration = Duration::from_millis(2);

/// The committed offsets of every partition at one instant.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When the answer arrived.
    pub at: Instant,
    /// Committed offset per partition (0 before the first commit).
    pub offsets: Vec<i64>,
}

impl Sample {
    /// Records done: the sum of the committed offsets.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.offsets
            .iter()
            .map(|offset| u64::try_from(*offset).unwrap_or(0))
            .sum()
    }
}

/// A running poll of one group's committed offsets on one topic.
#[derive(Debug)]
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Vec<Sample>, String>>,
}

impl Watch {
    /// Starts polling `group`'s committed offsets of `topic` (partitions `0..partitions`)
    /// until the total reaches `target` or [`Watch::finish`] is called.
    #[must_use]
    pub fn start(bootstrap: &str, group: &str, topic: &str, partitions: i32, target: u64) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (bootstrap, group, topic) = (bootstrap.to_owned(), group.to_owned(), topic.to_owned());
        let thread =
            std::thread::spawn(move || poll(&bootstrap, &group, &topic, partitions, target, &flag));
        Watch { stop, thread }
    }

    /// True once the target was reached (or the poll failed).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stops polling and returns the samples: the first one and then one per change.
    ///
    /// # Errors
    /// A message when the broker could not be asked.
    pub fn finish(self) -> Result<Vec<Sample>, String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .join()
            .map_err(|_| "the offset poll panicked".to_owned())?
    }
}

fn poll(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
    target: u64,
    stop: &AtomicBool,
) -> Result<Vec<Sample>, String> {
    // A consumer that never subscribes does not join the group: it only asks for its offsets.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|error| format!("offset poll client: {error}"))?;
    let mut partition_list = TopicPartitionList::new();
    for partition in 0..partitions {
        partition_list.add_partition(topic, partition);
    }
    let mut samples: Vec<Sample> = Vec::new();
    let mut last_report = Instant::now();
    let (mut polls, mut poll_time) = (0u32, Duration::ZERO);
    while !stop.load(Ordering::SeqCst) {
        let asked = Instant::now();
        let committed = consumer
            .committed_offsets(partition_list.clone(), Duration::from_secs(5))
            .map_err(|error| format!("committed offsets of {group}: {error}"))?;
        let offsets: Vec<i64> = (0..partitions)
            .map(
                |partition| match committed.find_partition(topic, partition) {
                    Some(element) => match element.offset() {
                        Offset::Offset(offset) => offset,
                        _ => 0,
                    },
                    None => 0,
                },
            )
            .collect();
        // Lists are dropped before the consumer (see KAFKA.md's pitfall).
        drop(committed);
        polls += 1;
        poll_time += asked.elapsed();
        let sample = Sample {
            at: Instant::now(),
            offsets,
        };
        let total = sample.total();
        if samples
            .last()
            .is_none_or(|last| last.offsets != sample.offsets)
        {
            samples.push(sample);
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!("  … {total} of {target} records committed");
            last_report = Instant::now();
        }
        if total >= target {
            break;
        }
        std::thread::sleep(POLL_PERIOD);
    }
    drop(partition_list);
    drop(consumer);
    eprintln!(
        "  {polls} offset polls, {:.1?} each on average",
        poll_time / polls.max(1)
    );
    Ok(samples)
}

/// Records per second between the first commit and the last one seen: the records the first
/// commit already covered are left out, since their time is not known.
#[must_use]
pub fn rate(samples: &[Sample]) -> Option<Rate> {
    let first = samples.iter().find(|sample| sample.total() > 0)?;
    let last = samples.last()?;
    eprintln!(
        "  first commit seen covers {} records; {} samples with changes",
        first.total(),
        samples.len()
    );
    if std::env::var_os("BENCH_DEBUG_SAMPLES").is_some() {
        for sample in samples.iter().take(12) {
            eprintln!(
                "    +{:?} {:?}",
                sample.at.duration_since(samples[0].at),
                sample.offsets
            );
        }
    }
    let seconds = last.at.duration_since(first.at).as_secs_f64();
    let records = last.total() - first.total();
    // Timing statistics only: f64 is fine here.
    #[allow(clippy::cast_precision_loss)]
    (seconds > 0.0).then(|| Rate {
        records_per_second: records as f64 / seconds,
        records,
        seconds,
    })
}

/// A measured rate.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Records per second.
    pub records_per_second: f64,
    /// Records counted (after the first commit).
    pub records: u64,
    /// Seconds from the first commit to the last.
    pub seconds: f64,
}

/// The first instant at which record (`partition`, `offset`) was seen committed.
#[must_use]
pub fn commit_time(samples: &[Sample], partition: usize, offset: i64) -> Option<Instant> {
    // Committed offsets only grow, so the samples are sorted by each partition's offset.
    let index = samples.partition_point(|sample| sample.offsets[partition] <= offset);
    samples.get(index).map(|sample| sample.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(start: Instant, millis: u64, offsets: &[i64]) -> Sample {
        Sample {
            at: start + Duration::from_millis(millis),
            offsets: offsets.to_vec(),
        }
    }

    /// A record counts as committed at the first sample whose offset of its partition is past
    /// it; the rate leaves out what the first commit covered.
    #[test]
    fn commit_times_and_rate() {
        let start = Instant::now();
        let samples = [
            sample(start, 0, &[0, 0]),
            sample(start, 100, &[10, 0]),
            sample(start, 200, &[10, 5]),
            sample(start, 1_100, &[20, 10]),
        ];
        assert_eq!(
            commit_time(&samples, 0, 9),
            Some(start + Duration::from_millis(100))
        );
        assert_eq!(
            commit_time(&samples, 0, 10),
            Some(start + Duration::from_millis(1_100))
        );
        assert_eq!(
            commit_time(&samples, 1, 0),
            Some(start + Duration::from_millis(200))
        );
        assert_eq!(commit_time(&samples, 1, 10), None);
        let rate = rate(&samples).unwrap();
        assert_eq!(rate.records, 20);
        assert!((rate.records_per_second - 20.0).abs() < 1e-9);
    }
}
