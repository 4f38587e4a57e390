//! Property test of corporate actions mixed with trades: random dividends, JCPs, splits and
//! reverse splits, received up front in a random order with duplicates and conflicting copies,
//! applied by the job day after day while holders trade, agree with a reference model in whole
//! shares and integer cents (entitlement = holdings at the end of the record date, share
//! actions at the start of their effective date, cash on its payment date), and the audit finds
//! nothing.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use wallet_domain::corporate_actions::{ActionStage, CorporateAction, Received};
use wallet_domain::ports::{CorporateActionStore, LedgerAudit, WalletReader};
use wallet_domain::settlement::day_start;
use wallet_domain::usecases::WalletService;
use wallet_sql::SqlStore;
use wallet_sql::test_support::TestDatabase;

use crate::support::{cash, decimal, event, service, user};

const USERS: [&str; 3] = ["ana", "bia", "carl"];
/// Days the market is open in one run; actions fall on days 1 to DAYS − 1.
const DAYS: u32 = 10;
const PRICE: &str = "10.00";

#[derive(Debug, Clone)]
enum Kind {
    Dividend {
        cents: i64,
        record: u32,
        pay: u32,
    },
    Jcp {
        cents: i64,
        record: u32,
        pay: u32,
    },
    Split {
        factor: u32,
        effective: u32,
    },
    Reverse {
        factor: u32,
        effective: u32,
        fraction_cents: i64,
        pay: u32,
    },
}

#[derive(Debug, Clone)]
struct Trade {
    day: u32,
    user: usize,
    buy: bool,
    quantity: i64,
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 6, 1).unwrap() + Duration::days(i64::from(day))
}

fn cents(value: i64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

/// The action's JSON; `variant` 1 is a conflicting copy under the same id.
fn json(id: usize, kind: &Kind, variant: u8) -> String {
    let head = format!(r#""id":"A{id}","ticker":"PETR4""#);
    let bump = i64::from(variant);
    match kind {
        Kind::Dividend {
            cents: c,
            record,
            pay,
        } => format!(
            r#"{{{head},"type":"CASH_DIVIDEND","amountPerShare":"{}","recordDate":"{}","paymentDate":"{}"}}"#,
            cents(c + bump),
            date(*record),
            date(*pay)
        ),
        Kind::Jcp {
            cents: c,
            record,
            pay,
        } => format!(
            r#"{{{head},"type":"INTEREST_ON_EQUITY","amountPerShare":"{}","recordDate":"{}","paymentDate":"{}"}}"#,
            cents(c + bump),
            date(*record),
            date(*pay)
        ),
        Kind::Split { factor, effective } => format!(
            r#"{{{head},"type":"SPLIT","ratio":"1:{}","effectiveDate":"{}"}}"#,
            factor + u32::from(variant),
            date(*effective)
        ),
        Kind::Reverse {
            factor,
            effective,
            fraction_cents,
            pay,
        } => format!(
            r#"{{{head},"type":"REVERSE_SPLIT","ratio":"{}:1","effectiveDate":"{}","fractionPrice":"{}","paymentDate":"{}"}}"#,
            factor,
            date(*effective),
            cents(fraction_cents + bump),
            date(*pay)
        ),
    }
}

fn kind_strategy() -> impl Strategy<Value = Kind> {
    (1..DAYS - 1, 0..3_u32, 1..300_i64, 0..4_u8, 2..11_u32).prop_map(
        |(day, wait, cents, which, factor)| {
            let pay = (day + wait).min(DAYS - 1);
            match which {
                0 => Kind::Dividend {
                    cents,
                    record: day,
                    pay,
                },
                1 => Kind::Jcp {
                    cents,
                    record: day,
                    pay,
                },
                2 => Kind::Split {
                    factor: factor.min(3),
                    effective: day,
                },
                _ => Kind::Reverse {
                    factor,
                    effective: day,
                    fraction_cents: cents,
                    pay,
                },
            }
        },
    )
}

fn share_day(kind: &Kind) -> Option<u32> {
    match kind {
        Kind::Split { effective, .. } | Kind::Reverse { effective, .. } => Some(*effective),
        _ => None,
    }
}

/// Actions (share actions on distinct days: two on one day would depend on their order) and
/// the order they are received in: (action, variant), duplicates included.
fn actions_strategy() -> impl Strategy<Value = (Vec<Kind>, Vec<(usize, u8)>)> {
    prop::collection::vec(kind_strategy(), 1..5)
        .prop_map(|kinds| {
            let mut seen = Vec::new();
            kinds
                .into_iter()
                .filter(|kind| match share_day(kind) {
                    Some(day) if seen.contains(&day) => false,
                    Some(day) => {
                        seen.push(day);
                        true
                    }
                    None => true,
                })
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|kinds| {
            let count = kinds.len();
            let receptions = prop::collection::vec(
                (0..count, prop_oneof![4 => Just(0_u8), 1 => Just(1_u8)]),
                count..count * 3,
            )
            .prop_map(move |mut extra| {
                // Every action is received at least once.
                extra.extend((0..count).map(|index| (index, 0)));
                extra
            })
            .prop_shuffle();
            (Just(kinds), receptions)
        })
}

fn trades_strategy() -> impl Strategy<Value = Vec<Trade>> {
    prop::collection::vec(
        (
            0..DAYS,
            0..USERS.len(),
            prop::bool::weighted(0.6),
            1..60_i64,
        ),
        4..24,
    )
    .prop_map(|mut trades| {
        trades.sort_by_key(|trade| trade.0);
        trades
            .into_iter()
            .map(|(day, user, buy, quantity)| Trade {
                day,
                user,
                buy,
                quantity,
            })
            .collect()
    })
}

fn half_even(value: Decimal) -> i64 {
    i64::try_from(
        value
            .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)
            .mantissa(),
    )
    .unwrap()
}

/// The holders' shares and cash in whole shares and cents, and the cash owed per payment day.
#[derive(Debug, Default)]
struct Model {
    shares: [i64; 3],
    cents: [i64; 3],
    owed: Vec<(u32, usize, i64)>,
}

impl Model {
    /// The job's run at the start of `day`: entitlements of record dates that ended, share
    /// actions effective today, payments due.
    fn start_of(&mut self, day: u32, actions: &[Kind]) {
        let holdings = self.shares;
        for kind in actions {
            match *kind {
                Kind::Dividend { cents, record, pay } if record + 1 == day => {
                    for (holder, held) in holdings.iter().enumerate() {
                        self.owed.push((pay.max(day), holder, held * cents));
                    }
                }
                Kind::Jcp { cents, record, pay } if record + 1 == day => {
                    for (holder, held) in holdings.iter().enumerate() {
                        let gross = held * cents;
                        let tax = half_even(Decimal::from(gross) * decimal("0.15"));
                        self.owed.push((pay.max(day), holder, gross - tax));
                    }
                }
                Kind::Split { factor, effective } if effective == day => {
                    for held in &mut self.shares {
                        *held *= i64::from(factor);
                    }
                }
                Kind::Reverse {
                    factor,
                    effective,
                    fraction_cents,
                    pay,
                } if effective == day => {
                    let factor = i64::from(factor);
                    for (holder, held) in self.shares.iter_mut().enumerate() {
                        let left = *held % factor;
                        *held /= factor;
                        let cash =
                            half_even(Decimal::from(left * fraction_cents) / Decimal::from(factor));
                        self.owed.push((pay, holder, cash));
                    }
                }
                _ => {}
            }
        }
        let (due, later): (Vec<_>, Vec<_>) =
            self.owed.drain(..).partition(|(pay, _, _)| *pay <= day);
        self.owed = later;
        for (_, holder, cash) in due {
            self.cents[holder] += cash;
        }
    }
}

async fn run_job(service: &WalletService<SqlStore>, now: DateTime<Utc>) {
    for _ in 0..1_000 {
        if !service
            .advance_corporate_actions(now, 2)
            .await
            .unwrap()
            .more
        {
            return;
        }
    }
    panic!("the job never came to rest");
}

async fn check(kinds: Vec<Kind>, receptions: Vec<(usize, u8)>, trades: Vec<Trade>) {
    let database = TestDatabase::sqlite().await;
    let store = database.store();
    let service = service(store);
    let mut model = Model::default();
    for (holder, name) in USERS.iter().enumerate() {
        service
            .deposit(&cash(name, "1000000.00"), day_start(date(0)))
            .await
            .unwrap();
        model.cents[holder] = 100_000_000;
    }
    // The terms that stand are those received first.
    let mut standing: Vec<Option<Kind>> = vec![None; kinds.len()];
    for (index, variant) in receptions {
        let action =
            CorporateAction::parse(json(index, &kinds[index], variant).as_bytes()).unwrap();
        let received = service
            .receive_corporate_action(action, day_start(date(0)))
            .await
            .unwrap();
        match (&standing[index], variant, received) {
            (None, _, Received::New(_)) => {
                let mut kind = kinds[index].clone();
                if variant == 1 {
                    kind = bumped(kind);
                }
                standing[index] = Some(kind);
            }
            (Some(_), _, Received::Duplicate(_) | Received::Conflict(_)) => {}
            (before, variant, received) => {
                panic!("{before:?} then variant {variant}: {received:?}")
            }
        }
    }
    let standing: Vec<Kind> = standing.into_iter().flatten().collect();
    let mut order = 0_i64;
    for day in 0..=DAYS {
        run_job(&service, day_start(date(day)) + Duration::minutes(30)).await;
        model.start_of(day, &standing);
        for trade in trades.iter().filter(|trade| trade.day == day) {
            let quantity = if trade.buy {
                trade.quantity
            } else {
                trade.quantity.min(model.shares[trade.user])
            };
            if quantity == 0 {
                continue;
            }
            order += 1;
            let side = if trade.buy { "BUY" } else { "SELL" };
            let name = USERS[trade.user];
            let message = |status: &str| {
                event(&format!(
                    r#"{{"orderId":{order},"userId":"{name}","ticker":"PETR4","quantity":{quantity},"price":{PRICE},"executedPrice":{PRICE},"side":"{side}","status":"{status}"}}"#
                ))
            };
            service
                .apply_order_events(
                    &[message("PENDING"), message("FILLED")],
                    day_start(date(day)) + Duration::hours(13),
                )
                .await
                .unwrap();
            let sign = if trade.buy { 1 } else { -1 };
            model.shares[trade.user] += sign * quantity;
            model.cents[trade.user] -= sign * quantity * 1_000;
        }
        for (holder, name) in USERS.iter().enumerate() {
            let held = store
                .positions(&user(name))
                .await
                .unwrap()
                .iter()
                .map(|position| position.quantity.value())
                .sum::<Decimal>();
            assert_eq!(
                held,
                Decimal::from(model.shares[holder]),
                "{name} on day {day}"
            );
        }
    }
    for (holder, name) in USERS.iter().enumerate() {
        let account = store.account(&user(name)).await.unwrap().unwrap();
        assert_eq!(
            account.balance.value(),
            Decimal::new(model.cents[holder], 2),
            "{name}: {standing:?}"
        );
        assert!(store.receivables(&user(name)).await.unwrap().is_empty());
    }
    for index in 0..kinds.len() {
        let record = store.action(&format!("A{index}")).await.unwrap().unwrap();
        assert_eq!(record.stage, ActionStage::Completed, "{record:?}");
    }
    assert_eq!(store.audit(None).await.unwrap(), vec![]);
    database.cleanup().await;
}

/// The terms of a conflicting copy (see [`json`]).
fn bumped(kind: Kind) -> Kind {
    match kind {
        Kind::Dividend { cents, record, pay } => Kind::Dividend {
            cents: cents + 1,
            record,
            pay,
        },
        Kind::Jcp { cents, record, pay } => Kind::Jcp {
            cents: cents + 1,
            record,
            pay,
        },
        Kind::Split { factor, effective } => Kind::Split {
            factor: factor + 1,
            effective,
        },
        Kind::Reverse {
            factor,
            effective,
            fraction_cents,
            pay,
        } => Kind::Reverse {
            factor,
            effective,
            fraction_cents: fraction_cents + 1,
            pay,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn corporate_actions_and_trades_agree_with_the_model(
        (kinds, receptions) in actions_strategy(),
        trades in trades_strategy(),
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(check(kinds, receptions, trades));
    }
}
