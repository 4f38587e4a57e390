//! One batch of consumed records: parsed at the edge into domain events, applied together, and
//! turned into dead letters, metrics and the offsets to store. Pure apart from metrics, so the
//! bookkeeping is unit-tested without a broker.

use std::collections::BTreeMap;

use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use wallet_domain::{EventOutcome, OrderEvent, Rejection};

use crate::dead_letter::DeadLetter;
use crate::metrics;

/// What parsing made of one record.
#[derive(Debug)]
enum Parsed {
    /// Index into [`Batch::events`].
    Event(usize),
    /// Malformed: goes to the dead-letter topic without touching the store.
    Rejected(Rejection),
}

/// The records of one batch, in consumption order (so in partition order per partition).
#[derive(Debug)]
pub(crate) struct Batch {
    records: Vec<OwnedMessage>,
    parsed: Vec<Parsed>,
    events: Vec<OrderEvent>,
}

/// The delivery of a record, under which its dead-letter decision is kept: a record read again
/// (its offsets were not committed) is the same delivery; a replayed one has a new offset.
fn delivery(record: &OwnedMessage) -> String {
    format!(
        "{}/{}/{}",
        record.topic(),
        record.partition(),
        record.offset()
    )
}

impl Batch {
    pub(crate) fn parse(records: Vec<OwnedMessage>) -> Batch {
        let mut parsed = Vec::with_capacity(records.len());
        let mut events = Vec::with_capacity(records.len());
        for record in &records {
            // A tombstone (no value) parses as an empty document and is dead-lettered.
            match OrderEvent::parse(record.payload().unwrap_or_default()) {
                Ok(mut event) => {
                    event.delivery = Some(delivery(record));
                    parsed.push(Parsed::Event(events.len()));
                    events.push(event);
                }
                Err(rejection) => parsed.push(Parsed::Rejected(rejection)),
            }
        }
        Batch {
            records,
            parsed,
            events,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// The valid events, to apply in one transaction in this order.
    pub(crate) fn events(&self) -> &[OrderEvent] {
        &self.events
    }

    /// The dead letters of this batch given the outcomes of [`Batch::events`], and counts the
    /// metrics of every record.
    pub(crate) fn settle<'a>(&'a self, outcomes: &'a [EventOutcome]) -> Vec<DeadLetter<'a>> {
        let mut letters = Vec::new();
        for (record, parsed) in self.records.iter().zip(&self.parsed) {
            let (status, rejection) = match parsed {
                Parsed::Rejected(rejection) => (metrics::STATUS_UNPARSED, Some(rejection)),
                Parsed::Event(index) => {
                    let event = &self.events[*index];
                    let status = event.status.label();
                    match outcomes.get(*index) {
                        Some(EventOutcome::DeadLetter(rejection)) => (status, Some(rejection)),
                        Some(outcome) => {
                            // One line per record, with the order and the delivery: a grep
                            // for an order id shows every event of its life. At debug: at
                            // info, formatting and writing a line per event cost about 1–2 of
                            // the wallet's 26–28 µs of CPU per event in `make bench`
                            // (`docs/benchmarks.md`); the batch's line says what it applied.
                            tracing::debug!(
                                order_id = event.order_id.get(),
                                user_id = %event.user_id,
                                status,
                                partition = record.partition(),
                                offset = record.offset(),
                                outcome = outcome.label(),
                                "order event applied"
                            );
                            metrics::event(status, outcome.label());
                            (status, None)
                        }
                        // The use case returns one outcome per event; a missing one is a bug
                        // worth seeing, but not worth losing the batch over.
                        None => {
                            tracing::error!(index, "no outcome for an applied event");
                            (status, None)
                        }
                    }
                }
            };
            if let Some(rejection) = rejection {
                let reason = rejection.reason.as_str();
                let order_id = match parsed {
                    Parsed::Event(index) => Some(self.events[*index].order_id.get()),
                    Parsed::Rejected(_) => None,
                };
                tracing::warn!(
                    order_id,
                    status,
                    partition = record.partition(),
                    offset = record.offset(),
                    reason,
                    detail = %rejection.detail,
                    "order event dead-lettered"
                );
                metrics::event(status, "dead_letter");
                metrics::dead_letter(reason);
                letters.push(DeadLetter {
                    key: record.key(),
                    value: record.payload(),
                    reason,
                    detail: &rejection.detail,
                    topic: record.topic(),
                    partition: record.partition(),
                    offset: record.offset(),
                });
            }
        }
        letters
    }

    /// The next offset to consume per partition: one past the last record of this batch.
    pub(crate) fn next_offsets(&self) -> BTreeMap<(String, i32), i64> {
        let mut next = BTreeMap::new();
        for record in &self.records {
            let entry = next
                .entry((record.topic().to_owned(), record.partition()))
                .or_insert(0);
            *entry = (*entry).max(record.offset() + 1);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::Timestamp;
    use wallet_domain::DeadLetterReason;

    use super::*;

    fn record(partition: i32, offset: i64, value: &[u8]) -> OwnedMessage {
        OwnedMessage::new(
            Some(value.to_vec()),
            Some(b"investor-42".to_vec()),
            "order-events-v1".to_owned(),
            Timestamp::NotAvailable,
            partition,
            offset,
            None,
        )
    }

    const PENDING: &[u8] = br#"{"orderId":1001,"userId":"investor-42","ticker":"PETR4",
        "quantity":100,"price":38.55,"side":"BUY","status":"PENDING"}"#;

    #[test]
    fn malformed_and_uncovered_records_become_dead_letters_in_order() {
        let batch = Batch::parse(vec![
            record(0, 10, PENDING),
            record(0, 11, b"{not json"),
            record(1, 5, PENDING),
        ]);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.events().len(), 2);
        let outcomes = [
            EventOutcome::Applied,
            EventOutcome::DeadLetter(Rejection::new(
                DeadLetterReason::SettlementNotCovered,
                "no cash",
            )),
        ];
        let letters = batch.settle(&outcomes);
        let summary: Vec<_> = letters
            .iter()
            .map(|letter| (letter.partition, letter.offset, letter.reason))
            .collect();
        assert_eq!(
            summary,
            [(0, 11, "INVALID_JSON"), (1, 5, "SETTLEMENT_NOT_COVERED")]
        );
        assert_eq!(letters[0].value, Some(&b"{not json"[..]));
    }

    #[test]
    fn next_offsets_are_one_past_the_last_record_of_each_partition() {
        let batch = Batch::parse(vec![
            record(0, 10, PENDING),
            record(1, 3, PENDING),
            record(0, 12, PENDING),
        ]);
        let next = batch.next_offsets();
        assert_eq!(next[&("order-events-v1".to_owned(), 0)], 13);
        assert_eq!(next[&("order-events-v1".to_owned(), 1)], 4);
    }
}
