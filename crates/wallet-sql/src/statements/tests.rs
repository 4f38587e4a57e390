//! The literal writer, the statement builders and the text splitter.

use proptest::strategy::Strategy as _;
use rust_decimal::Decimal;

use super::*;

#[test]
fn an_insert_is_cut_at_the_bind_limit_and_at_a_megabyte() {
    let small = |count: usize| -> Vec<Vec<Value>> {
        (0..count)
            .map(|index| vec![Value::from(index as i64)])
            .collect()
    };
    let sizes = |statements: Vec<Query>| -> Vec<usize> {
        statements.iter().map(|query| query.values.len()).collect()
    };
    assert_eq!(sizes(insert_statements("t", &["a"], small(3))), [3]);
    assert_eq!(
        sizes(insert_statements("t", &["a"], small(BIND_VALUES_MAX + 1))),
        [BIND_VALUES_MAX, 1]
    );
    let large = "x".repeat(STATEMENT_BYTES_MAX / 3);
    let rows: Vec<Vec<Value>> = (0..5).map(|_| vec![Value::from(large.as_str())]).collect();
    // Each estimated at two thirds of the limit (a string may go as hex: twice its length).
    assert_eq!(sizes(insert_statements("t", &["a"], rows)), [1, 1, 1, 1, 1]);
    assert!(insert_statements("t", &["a"], Vec::new()).is_empty());
}

#[test]
fn statements_fill_texts_up_to_the_limit_in_order() {
    let mut texts = Texts::with_limit(20);
    for statement in [
        "SELECT 1",
        "SELECT 22",
        "SELECT 333",
        "SELECT 'a long one'",
        "SELECT 5",
    ] {
        texts.push(statement);
    }
    assert_eq!(
        texts.into_texts(),
        [
            "SELECT 1;\nSELECT 22;\n",
            "SELECT 333;\n",
            "SELECT 'a long one';\n",
            "SELECT 5;\n"
        ]
    );
    assert!(Texts::default().into_texts().is_empty());
}

#[test]
fn mysql_literals_need_no_escaping() {
    let mut query = Query::new("INSERT INTO t VALUES ");
    query.bind_tuple([
        Value::from("investor-42"),
        Value::from("it's \\ \"quoted\" é"),
        Value::from(Decimal::from_str_exact("-0.00000001").unwrap()),
        Value::from(7_i64),
        Value::String(None),
        Value::Decimal(None),
    ]);
    assert_eq!(
        query.inline_mysql().unwrap(),
        "INSERT INTO t VALUES ('investor-42', _utf8mb4 X'69742773205C202271756F7465642220C3A9', \
         -0.00000001, 7, NULL, NULL)"
    );
}

#[test]
fn time_literals_are_what_chrono_writes() {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    let times = [
        day.and_hms_micro_opt(0, 0, 0, 0).unwrap(),
        day.and_hms_micro_opt(9, 5, 7, 42).unwrap(),
        day.and_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
        // A leap second.
        day.and_hms_nano_opt(23, 59, 59, 1_000_000_001).unwrap(),
        chrono::NaiveDate::from_ymd_opt(1, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        chrono::NaiveDate::from_ymd_opt(12_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    ];
    for time in times {
        let mut text = String::new();
        push_time_literal(&mut text, &time);
        assert_eq!(
            text,
            format!("'{}'", time.format("%Y-%m-%d %H:%M:%S%.6f")),
            "{time:?}"
        );
    }
}

#[test]
fn printable_ascii_is_quoted_as_it_is_and_anything_else_as_hex() {
    let printable: String = (b' '..=b'~')
        .filter(|byte| *byte != b'\'' && *byte != b'\\')
        .map(char::from)
        .collect();
    let json = r#"{"userId":"investor-42","amount":"10.50","reason":"a; b -- c %_?"}"#;
    for plain in [printable.as_str(), json, ""] {
        let mut query = Query::new("SELECT ");
        query.bind(Value::from(plain));
        assert_eq!(query.inline_mysql().unwrap(), format!("SELECT '{plain}'"));
    }
    for escaped in [
        "it's",
        "back\\slash",
        "tab\t",
        "new\nline",
        "nul\0",
        "é",
        "\u{7f}",
    ] {
        let mut query = Query::new("SELECT ");
        query.bind(Value::from(escaped));
        let mut expected = "SELECT _utf8mb4 X'".to_owned();
        push_hex(&mut expected, escaped.as_bytes());
        expected.push('\'');
        assert_eq!(query.inline_mysql().unwrap(), expected, "{escaped:?}");
    }
}

/// The bytes of a hex literal's digits.
fn read_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

/// A quoted literal's text, if no `sql_mode` changes it: no quote, no backslash.
fn read_quoted(quoted: &str) -> Option<&str> {
    let quoted = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    let escapes =
        quoted.contains(['\'', '\\']) || !quoted.bytes().all(|b| (b' '..=b'~').contains(&b));
    (!escapes).then_some(quoted)
}

/// The literal of `string` read back the way MySQL reads it: a quoted text as it is (it
/// holds no quote and no backslash, so no `sql_mode` changes it), a hex text byte by byte.
fn read_literal(literal: &str) -> Option<String> {
    if let Some(hex) = literal
        .strip_prefix("_utf8mb4 X'")
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return String::from_utf8(read_hex(hex)?).ok();
    }
    read_quoted(literal).map(str::to_owned)
}

/// The bytes of a binary literal, read back the same way.
fn read_binary_literal(literal: &str) -> Option<Vec<u8>> {
    if let Some(quoted) = literal.strip_prefix("_binary") {
        return read_quoted(quoted).map(|text| text.as_bytes().to_vec());
    }
    read_hex(literal.strip_prefix("X'")?.strip_suffix('\'')?)
}

#[test]
fn plain_bytes_are_a_quoted_binary_string_and_any_others_hex() {
    let json = r#"[{"userId":"investor-42","amount":"10.50"},{"reason":null}]"#;
    let mut query = Query::new("SELECT ");
    query
        .bind(Value::from(json.as_bytes().to_vec()))
        .sql(", ")
        .bind(Value::from("it's é".as_bytes().to_vec()))
        .sql(", ")
        .bind(Value::Bytes(None));
    assert_eq!(
        query.inline_mysql().unwrap(),
        format!("SELECT _binary'{json}', X'6974277320C3A9', NULL")
    );
}

/// MariaDB stores a binary string into a utf8mb4 text column as the text it encodes, in
/// either form, and refuses bytes that are not UTF-8 instead of storing something else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_string_stores_its_text_in_a_text_column() {
    let database = crate::test_support::TestDatabase::mysql().await;
    let store = database.store();
    database
        .execute_sql(
            "CREATE TABLE texts (id BIGINT PRIMARY KEY, body MEDIUMTEXT NOT NULL) \
             DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        )
        .await
        .unwrap();
    let texts = [r#"{"eventId":"e-1","reason":null}"#, "it's \\ \"é\" \n\0 ✓"];
    for (id, text) in texts.iter().enumerate() {
        let mut insert = Query::new("INSERT INTO texts VALUES ");
        insert.bind_tuple([
            Value::from(id as i64),
            Dialect::MySql.long_text(text.as_bytes().to_vec()),
        ]);
        database
            .execute_sql(&insert.inline_mysql().unwrap())
            .await
            .unwrap();
    }
    let mut read: Vec<String> = Vec::new();
    for row in store
        .query_all(Query::new("SELECT body FROM texts ORDER BY id"))
        .await
        .unwrap()
    {
        read.push(crate::dialect::get(&row, "body").unwrap());
    }
    assert_eq!(read, texts);
    let mut invalid = Query::new("INSERT INTO texts VALUES (9, ");
    invalid.bind(Value::from(vec![0xC3_u8, 0x28])).sql(")");
    let refused = database.execute_sql(&invalid.inline_mysql().unwrap()).await;
    assert!(refused.is_err(), "{refused:?}");
    database.cleanup().await;
}

proptest::proptest! {
    /// Whatever a client sends (idempotency keys, user ids, dead-letter details, the JSON
    /// that carries them), its literal reads back as exactly that string and never ends
    /// the quoted text early.
    #[test]
    fn every_string_reads_back_from_its_literal(
        // Printable ASCII (the quoted path, quotes and backslashes included) or anything.
        string in proptest::prop_oneof!["[ -~]*", "(\\PC|[\\x00-\\x7f])*"]
    ) {
        let mut query = Query::new("SELECT ");
        query.bind(Value::from(string.as_str()));
        let text = query.inline_mysql().unwrap();
        let literal = text.strip_prefix("SELECT ").unwrap();
        proptest::prop_assert_eq!(read_literal(literal), Some(string));
    }
}

proptest::proptest! {
    /// Whatever bytes a long text holds, its binary literal reads back as exactly them.
    #[test]
    fn every_byte_string_reads_back_from_its_binary_literal(
        bytes in proptest::prop_oneof![
            "[ -~]*".prop_map(String::into_bytes),
            proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ]
    ) {
        let mut query = Query::new("SELECT ");
        query.bind(Value::from(bytes.clone()));
        let text = query.inline_mysql().unwrap();
        let literal = text.strip_prefix("SELECT ").unwrap();
        proptest::prop_assert_eq!(read_binary_literal(literal), Some(bytes));
    }
}

#[test]
fn a_sized_text_is_allocated_once_for_its_estimate_within_the_limit() {
    let mut texts = Texts::sized(100_000);
    texts.push("START TRANSACTION");
    assert!(texts.texts[0].capacity() >= 100_000);
    let mut capped = Texts::sized(usize::MAX);
    capped.push("START TRANSACTION");
    assert!(capped.texts[0].capacity() < 2 * TEXT_BYTES_MAX);
}

#[test]
fn hex_literals_hold_every_byte() {
    let bytes: Vec<u8> = (0..=255).collect();
    let mut text = String::new();
    push_hex(&mut text, &bytes);
    let expected: String = bytes.iter().map(|byte| format!("{byte:02X}")).collect();
    assert_eq!(text, expected);
}

#[test]
fn a_value_type_the_store_never_binds_is_refused() {
    let mut query = Query::new("SELECT ");
    query.bind(Value::Bool(Some(true)));
    assert!(query.inline_mysql().is_err());
}
