//! Corporate actions through the real binary, with the clock driven by the test: the numbers
//! of the store test (`crates/wallet-sql/tests/store/corporate_actions.rs`) for ana, bia and
//! carl. A JCP from the Kafka topic is owed to the holders at the end of its record date (a
//! trade on that date counts, one after it does not), listed as a receivable and paid with the
//! tax withheld; a 1:2 split posted over HTTP (again: 200, other terms: 409) scales ana's open
//! SELL order, which then fills in new shares; a 10:1 reverse split pays bia's fraction in
//! cash. A malformed action is dead-lettered with its reason, every change is announced, and
//! `wallet audit` passes at the end.

use std::time::Duration;

use rdkafka::producer::FutureProducer;
use serde_json::{Value, json};
use wallet_e2e::broker::Broker;
use wallet_e2e::database::Database;
use wallet_e2e::eventually;
use wallet_e2e::kafka;
use wallet_e2e::wallet::Wallet;

use crate::clock::TestClock;
use crate::{DEAD_LETTERS, DRAIN_TIMEOUT, INPUT, WALLET_EVENTS, assert_audit_passes, settings};

const ACTIONS: &str = "corporate-actions-v1";
const ACTION_DEAD_LETTERS: &str = "corporate-actions-v1.DLT";
const JCP: &str = "PETR4-2027-JCP-1";
const SPLIT: &str = "PETR4-2027-SPLIT";
const GROUP: &str = "PETR4-2027-GROUP";

/// The running wallet and the Order API's producer, with the reads the scenario asserts on.
struct Scene {
    wallet: Wallet,
    producer: FutureProducer,
}

impl Scene {
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.wallet.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn produce(&self, topic: &str, key: &str, values: &[&str]) {
        let records: Vec<_> = values
            .iter()
            .map(|value| (key.to_owned(), value.as_bytes().to_vec()))
            .collect();
        kafka::produce(&self.producer, topic, &records).await;
    }

    async fn balance(&self, user: &str) -> Value {
        self.get(&format!("/api/v1/wallet/{user}")).await["balance"].clone()
    }

    /// Produces a PENDING and a FILLED of one whole order and waits until its cash is booked
    /// (the clock must not move before: the fill is booked at the service's now).
    async fn trade(
        &self,
        (id, user, side, quantity, price): (i64, &str, &str, u32, &str),
        after: &str,
    ) {
        let order = |status: &str| {
            format!(
                r#"{{"orderId":{id},"userId":"{user}","ticker":"PETR4","quantity":{quantity},"price":{price},"executedPrice":{price},"side":"{side}","status":"{status}"}}"#
            )
        };
        self.produce(INPUT, user, &[&order("PENDING"), &order("FILLED")])
            .await;
        self.wait_balance(user, after).await;
    }

    async fn wait_balance(&self, user: &str, balance: &str) {
        eventually(&format!("{user} at {balance}"), DRAIN_TIMEOUT, || async {
            self.balance(user).await == balance
        })
        .await;
    }

    /// The PETR4 position of `user`: quantity, blocked quantity, average price, realized P&L.
    async fn holding(&self, user: &str) -> Value {
        let positions = self.get(&format!("/api/v1/wallet/{user}/positions")).await;
        let petr4 = positions
            .as_array()
            .and_then(|all| all.iter().find(|position| position["ticker"] == "PETR4"))
            .unwrap_or_else(|| panic!("{user} holds no PETR4: {positions}"));
        let fields = ["quantity", "blockedQuantity", "averagePrice", "realizedPnl"];
        fields.map(|name| petr4[name].clone()).into()
    }

    async fn receivables(&self, user: &str) -> Value {
        self.get(&format!("/api/v1/wallet/{user}/summary")).await["receivables"].clone()
    }

    /// The statement lines of `user` that corporate actions wrote (no order's and no deposit),
    /// oldest first: their type and Java `amount` (null where only shares move).
    async fn action_lines(&self, user: &str) -> Value {
        let statement = self
            .get(&format!("/api/v1/wallet/{user}/transactions"))
            .await;
        let mut lines: Vec<Value> = statement
            .as_array()
            .expect("the statement is an array")
            .iter()
            .filter(|line| line["orderId"].is_null() && line["transactionType"] != "DEPOSIT")
            .map(|line| json!([line["transactionType"], line["amount"]]))
            .collect();
        // The statement is newest first.
        lines.reverse();
        lines.into()
    }

    /// Waits until action `id` reaches `status`; its totals then: holders, cash owed, cash
    /// paid, tax withheld, shares delta.
    async fn action_reaches(&self, id: &str, status: &str) -> Value {
        let path = format!("/api/v1/corporate-actions/{id}");
        eventually(&format!("{id} {status}"), DRAIN_TIMEOUT, || async {
            self.wallet.get(&path).await.1["status"] == status
        })
        .await;
        let action = self.get(&path).await;
        let fields = [
            "holdersAffected",
            "cashOwed",
            "cashPaid",
            "taxWithheld",
            "sharesDelta",
        ];
        assert_eq!(
            status == "COMPLETED",
            !action["completedAt"].is_null(),
            "{action}"
        );
        fields.map(|name| action[name].clone()).into()
    }

    async fn post_action(&self, body: &str) -> (u16, Value) {
        let response = self
            .wallet
            .http()
            .post(format!(
                "{}/api/v1/corporate-actions",
                self.wallet.base_url()
            ))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST a corporate action");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// A receivable of the summary.
fn owed(action: &str, date: &str, [quantity, gross, tax, net]: [&str; 4]) -> Value {
    json!([{"actionId": action, "paymentDate": date, "quantity": quantity,
            "grossAmount": gross, "taxWithheld": tax, "netAmount": net}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jcp_a_split_and_a_reverse_split_reach_every_holder_exactly() {
    let database = Database::create();
    // Tansu creates no topic on demand: the action topics must exist before the wallet starts.
    let topics = [
        INPUT,
        DEAD_LETTERS,
        WALLET_EVENTS,
        ACTIONS,
        ACTION_DEAD_LETTERS,
    ];
    let broker = Broker::start(&topics, 3);
    // Monday 26 April 2027, 09:00 in São Paulo.
    let clock = TestClock::at("2027-04-26T12:00:00Z");
    let mut env = settings(database.url(), broker.bootstrap());
    env.push(clock.setting());
    env.push(("WALLET__CORPORATE_ACTIONS__INTERVAL_SECONDS", "1".into()));
    // One holder per batch, so every action goes through the job's cursor.
    env.push(("WALLET__CORPORATE_ACTIONS__BATCH_SIZE", "1".into()));
    let mut wallet = Wallet::start(&env);
    wallet.wait_ready(Duration::from_secs(60)).await;
    let producer = kafka::producer(&broker.bootstrap());
    let s = Scene { wallet, producer };
    for (user, amount) in [
        ("ana", "20000.00"),
        ("bia", "5000.00"),
        ("carl", "10000.00"),
    ] {
        let path = format!("/api/v1/wallet/{user}/deposit?amount={amount}");
        assert_eq!(s.wallet.post(&path).await.0, 200, "deposit for {user}");
    }

    // ana buys 350 at 38.55 before the record date.
    clock.set("2027-04-28T15:00:00Z");
    s.trade((1, "ana", "BUY", 350, "38.55"), "6507.50").await;

    // The JCP arrives on the topic, keyed by its ticker, and waits for its record date.
    clock.set("2027-04-29T12:00:00Z");
    let jcp = r#"{"id":"PETR4-2027-JCP-1","type":"INTEREST_ON_EQUITY","ticker":"PETR4","amountPerShare":"0.8125","recordDate":"2027-04-30","paymentDate":"2027-05-20"}"#;
    s.produce(ACTIONS, "PETR4", &[jcp]).await;
    s.action_reaches(JCP, "WAITING").await;

    // bia buys 100 on the record date itself (17:00 in São Paulo): she is entitled.
    clock.set("2027-04-30T20:00:00Z");
    s.trade((2, "bia", "BUY", 100, "40.00"), "1000.00").await;
    // The record date has not ended: whatever rounds the job (every second) ran by now left
    // the JCP waiting, with nobody entitled.
    assert_eq!(s.receivables("ana").await, json!([]));
    assert_eq!(s.action_reaches(JCP, "WAITING").await[0], 0);

    // One second after the record date ended (00:00 at UTC-3): carl's purchase is too late.
    clock.set("2027-05-01T03:00:01Z");
    s.trade((3, "carl", "BUY", 200, "40.00"), "2000.00").await;
    // bia's sale after the record date does not take away what she was owed.
    clock.set("2027-05-03T15:00:00Z");
    s.trade((4, "bia", "SELL", 33, "41.00"), "2353.00").await;

    // 350 × 0.8125 = 284.375 → 284.38, 15 % = 42.66; 100 × 0.8125 = 81.25, 15 % = 12.19.
    let paying = s.action_reaches(JCP, "PAYING").await;
    assert_eq!(paying, json!([2, "310.78", "0.00", "0.00", "0"]));
    let jcp_owed = |amounts| owed(JCP, "2027-05-20", amounts);
    let ana_jcp = jcp_owed(["350", "284.38", "42.66", "241.72"]);
    assert_eq!(s.receivables("ana").await, ana_jcp);
    let bia_jcp = jcp_owed(["100", "81.25", "12.19", "69.06"]);
    assert_eq!(s.receivables("bia").await, bia_jcp);
    assert_eq!(s.receivables("carl").await, json!([]));

    // The payment date starts at 03:00Z: gross credited, tax debited, receivables gone.
    clock.set("2027-05-20T03:00:00Z");
    let paid = s.action_reaches(JCP, "COMPLETED").await;
    assert_eq!(paid, json!([2, "310.78", "310.78", "54.85", "0"]));
    assert_eq!(s.balance("ana").await, "6749.22");
    assert_eq!(s.balance("bia").await, "2422.06");
    assert_eq!(s.balance("carl").await, "2000.00");
    assert_eq!(s.receivables("ana").await, json!([]));
    let ana_lines = json!([["INTEREST_ON_EQUITY", "284.38"], ["TAX_WITHHELD", "-42.66"]]);
    assert_eq!(s.action_lines("ana").await, ana_lines);
    let bia_lines = json!([["INTEREST_ON_EQUITY", "81.25"], ["TAX_WITHHELD", "-12.19"]]);
    assert_eq!(s.action_lines("bia").await, bia_lines);

    // ana offers 40 shares at 42.00 before a 1:2 split.
    clock.set("2027-05-25T15:00:00Z");
    let offer = r#"{"orderId":5,"userId":"ana","ticker":"PETR4","quantity":40,"price":42.00,"side":"SELL","status":"PENDING"}"#;
    s.produce(INPUT, "ana", &[offer]).await;
    eventually("ana's offer reserved", DRAIN_TIMEOUT, || async {
        s.wallet.get("/api/v1/wallet/ana/orders/5").await.1["reservedQuantity"] == "40"
    })
    .await;

    // The split comes over HTTP: new, the same again, and other terms under its id.
    clock.set("2027-05-26T12:00:00Z");
    let split = r#"{"id":"PETR4-2027-SPLIT","type":"SPLIT","ticker":"PETR4","ratio":"1:2","effectiveDate":"2027-06-01"}"#;
    let (status, received) = s.post_action(split).await;
    assert_eq!(
        (status, &received["status"]),
        (202, &json!("WAITING")),
        "{received}"
    );
    let (status, again) = s.post_action(split).await;
    assert_eq!(
        (status, &again["receivedAt"]),
        (200, &received["receivedAt"]),
        "{again}"
    );
    let (status, conflict) = s.post_action(&split.replace("1:2", "1:3")).await;
    assert_eq!(
        (status, &conflict["code"]),
        (409, &json!("CONFLICTING_ACTION")),
        "{conflict}"
    );

    // At the start of the effective date: shares doubled, prices halved, cost basis kept;
    // 350 + 67 + 200 shares added, at the stored 1:2, not the conflicting copy's 1:3.
    clock.set("2027-06-01T03:00:00Z");
    let split_done = s.action_reaches(SPLIT, "COMPLETED").await;
    assert_eq!(split_done, json!([3, "0.00", "0.00", "0.00", "617"]));
    assert_eq!(
        s.holding("ana").await,
        json!(["700", "80", "19.275", "0.00"])
    );
    assert_eq!(s.holding("bia").await, json!(["134", "0", "20", "33.00"]));
    assert_eq!(s.holding("carl").await, json!(["400", "0", "20", "0.00"]));
    let hold = s.get("/api/v1/wallet/ana/orders/5").await;
    let terms = ["quantity", "reservedQuantity", "limitPrice", "status"].map(|name| &hold[name]);
    assert_eq!(
        json!(terms),
        json!(["80", "80", "21", "RESERVED"]),
        "{hold}"
    );

    // The order fills in new shares: 80 at 21.00 (the Order API's terms after the split),
    // realizing 80 × (21.00 − 19.275).
    clock.set("2027-06-02T15:00:00Z");
    let fill = r#"{"orderId":5,"userId":"ana","ticker":"PETR4","quantity":80,"price":21.00,"executedPrice":21.00,"side":"SELL","status":"FILLED"}"#;
    s.produce(INPUT, "ana", &[fill]).await;
    s.wait_balance("ana", "8429.22").await;
    assert_eq!(
        s.holding("ana").await,
        json!(["620", "0", "19.275", "138.00"])
    );

    // A malformed action (paid before its record date) goes ahead of the reverse split on the
    // same partition: once the reverse split is stored, the malformed one was handled.
    clock.set("2027-06-20T12:00:00Z");
    let contradictory = r#"{"id":"PETR4-BAD","type":"CASH_DIVIDEND","ticker":"PETR4","amountPerShare":"1.00","recordDate":"2027-06-30","paymentDate":"2027-06-10"}"#;
    let group = r#"{"id":"PETR4-2027-GROUP","type":"REVERSE_SPLIT","ticker":"PETR4","ratio":"10:1","effectiveDate":"2027-07-01","fractionPrice":"19.87","paymentDate":"2027-07-10"}"#;
    s.produce(ACTIONS, "PETR4", &[contradictory, group]).await;
    s.action_reaches(GROUP, "WAITING").await;
    let (status, _) = s.wallet.get("/api/v1/corporate-actions/PETR4-BAD").await;
    assert_eq!(status, 404, "a malformed action is not stored");
    let timeout = Duration::from_secs(60);
    let letters = kafka::read(&broker.bootstrap(), ACTION_DEAD_LETTERS, 1, timeout).await;
    let letter = &letters[0];
    assert_eq!(letter.value, contradictory.as_bytes());
    assert_eq!(letter.key.as_deref(), Some(b"PETR4".as_slice()));
    let reason = letter.headers.get("x-error-reason").map(String::as_str);
    assert_eq!(reason, Some("CONTRADICTORY_ACTION"), "{:?}", letter.headers);

    // 10:1 at the start of 1 July: 620 → 62, 400 → 40, bia's 134 → 13 and 0.4 owed in cash;
    // the 13 whole shares keep 13/13.4 of her 2,680.00 cost basis: 200.00 each.
    clock.set("2027-07-01T03:00:00Z");
    let grouped = s.action_reaches(GROUP, "PAYING").await;
    assert_eq!(grouped, json!([3, "7.95", "0.00", "0.00", "-1039"]));
    assert_eq!(
        s.holding("ana").await,
        json!(["62", "0", "192.75", "138.00"])
    );
    assert_eq!(s.holding("bia").await, json!(["13", "0", "200", "33.00"]));
    assert_eq!(s.holding("carl").await, json!(["40", "0", "200", "0.00"]));
    // 0.4 × 19.87 = 7.948 → 7.95, no tax on a fraction; the quantity is what she held before.
    let fraction = owed(GROUP, "2027-07-10", ["134", "7.95", "0.00", "7.95"]);
    assert_eq!(s.receivables("bia").await, fraction);
    assert_eq!(s.receivables("ana").await, json!([]));

    clock.set("2027-07-10T03:00:00Z");
    let group_done = s.action_reaches(GROUP, "COMPLETED").await;
    assert_eq!(group_done, json!([3, "7.95", "7.95", "0.00", "-1039"]));
    assert_eq!(s.balance("bia").await, "2430.01");
    assert_eq!(s.receivables("bia").await, json!([]));
    let bia_lines = json!([
        ["INTEREST_ON_EQUITY", "81.25"],
        ["TAX_WITHHELD", "-12.19"],
        ["SPLIT", null],
        ["REVERSE_SPLIT", null],
        ["CASH_IN_LIEU", "7.95"]
    ]);
    assert_eq!(s.action_lines("bia").await, bia_lines);

    // Every change was announced: 2 cash entries for each JCP holder, one share entry for each
    // holder of each split, one cash entry for bia's fraction.
    eventually("the outbox relayed", DRAIN_TIMEOUT, || async {
        database.query("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")[0][0] == "0"
    })
    .await;
    // A row holds one event, or a JSON array of the events of one user in one commit, which
    // the relay publishes one record each: count the events, not the rows.
    let events = "SELECT SUM((LENGTH(payload) - LENGTH(REPLACE(payload, '\"eventId\"', ''))) DIV 9) \
                  FROM outbox";
    let total: usize = database.query(events)[0][0].parse().expect("a count");
    let announced = kafka::read(&broker.bootstrap(), WALLET_EVENTS, total, timeout).await;
    let mut applied: Vec<String> = announced
        .iter()
        .map(|record| serde_json::from_slice::<Value>(&record.value).expect("wallet event JSON"))
        .filter(|event| event["type"] == "CORPORATE_ACTION_APPLIED")
        .map(|event| {
            format!(
                "{} {} {}",
                event["reason"], event["userId"], event["transactionType"]
            )
        })
        .collect();
    applied.sort();
    let expected = [
        (GROUP, "ana", "REVERSE_SPLIT"),
        (GROUP, "bia", "CASH_IN_LIEU"),
        (GROUP, "bia", "REVERSE_SPLIT"),
        (GROUP, "carl", "REVERSE_SPLIT"),
        (JCP, "ana", "INTEREST_ON_EQUITY"),
        (JCP, "ana", "TAX_WITHHELD"),
        (JCP, "bia", "INTEREST_ON_EQUITY"),
        (JCP, "bia", "TAX_WITHHELD"),
        (SPLIT, "ana", "SPLIT"),
        (SPLIT, "bia", "SPLIT"),
        (SPLIT, "carl", "SPLIT"),
    ]
    .map(|(id, user, kind)| format!("\"{id}\" \"{user}\" \"{kind}\""));
    assert_eq!(applied, expected);
    assert_audit_passes(&s.wallet);
}
