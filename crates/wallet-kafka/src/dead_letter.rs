//! Dead letters (SPEC §4 `order-events-v1.DLT`): the original key and value bytes, untouched,
//! with headers saying why and where from. A dead letter is produced and acknowledged before
//! the consumer commits past the record, so it is never lost.

use crate::publisher::OutRecord;

/// Header with the stable reason code (`DeadLetterReason::as_str`).
pub const HEADER_REASON: &str = "x-error-reason";
/// Header with the human-readable detail.
pub const HEADER_DETAIL: &str = "x-error-detail";
/// Header with the topic the record was consumed from.
pub const HEADER_ORIGINAL_TOPIC: &str = "x-original-topic";
/// Header with the partition the record was consumed from.
pub const HEADER_ORIGINAL_PARTITION: &str = "x-original-partition";
/// Header with the offset the record was consumed from.
pub const HEADER_ORIGINAL_OFFSET: &str = "x-original-offset";

/// Longest `x-error-detail`: the detail quotes input, which an adversary controls.
const DETAIL_BYTES_MAX: usize = 1_000;

/// A record the wallet will not apply, with where it came from.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetter<'a> {
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) reason: &'static str,
    pub(crate) detail: &'a str,
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

impl<'a> DeadLetter<'a> {
    /// The record to produce to `dead_letter_topic`.
    pub(crate) fn to_record(&self, dead_letter_topic: &'a str) -> OutRecord<'a> {
        OutRecord {
            topic: dead_letter_topic,
            key: self.key,
            value: self.value,
            headers: vec![
                (HEADER_REASON, self.reason.as_bytes().to_vec()),
                (HEADER_DETAIL, truncate(self.detail).as_bytes().to_vec()),
                (HEADER_ORIGINAL_TOPIC, self.topic.as_bytes().to_vec()),
                (
                    HEADER_ORIGINAL_PARTITION,
                    self.partition.to_string().into_bytes(),
                ),
                (HEADER_ORIGINAL_OFFSET, self.offset.to_string().into_bytes()),
            ],
        }
    }
}

/// `text` cut to at most [`DETAIL_BYTES_MAX`] bytes on a character boundary.
fn truncate(text: &str) -> &str {
    if text.len() <= DETAIL_BYTES_MAX {
        return text;
    }
    let mut end = DETAIL_BYTES_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_original_bytes_and_names_the_source() {
        let value = [0xff_u8, 0xfe, b'{'];
        let letter = DeadLetter {
            key: Some(b"investor-42"),
            value: Some(&value),
            reason: "INVALID_ENCODING",
            detail: "not UTF-8",
            topic: "order-events-v1",
            partition: 3,
            offset: 1234,
        };
        let record = letter.to_record("order-events-v1.DLT");
        assert_eq!(record.topic, "order-events-v1.DLT");
        assert_eq!(record.value, Some(&value[..]));
        assert_eq!(record.key, Some(&b"investor-42"[..]));
        let header = |name: &str| {
            record
                .headers
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| String::from_utf8(value.clone()).unwrap())
        };
        assert_eq!(header(HEADER_REASON).as_deref(), Some("INVALID_ENCODING"));
        assert_eq!(header(HEADER_ORIGINAL_PARTITION).as_deref(), Some("3"));
        assert_eq!(header(HEADER_ORIGINAL_OFFSET).as_deref(), Some("1234"));
        assert_eq!(
            header(HEADER_ORIGINAL_TOPIC).as_deref(),
            Some("order-events-v1")
        );
    }

    #[test]
    fn long_details_are_cut_on_a_character_boundary() {
        let detail = "é".repeat(DETAIL_BYTES_MAX);
        let cut = truncate(&detail);
        assert!(cut.len() <= DETAIL_BYTES_MAX);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
