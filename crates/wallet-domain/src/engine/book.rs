//! The in-memory working set of a unit of work.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::account::{Account, LastTrade, Position};
use crate::amount::{Currency, Money, Price};
use crate::corporate_actions::{ActionRecord, Entitlement};
use crate::fees::FeeSchedule;
use crate::hold::Hold;
use crate::ids::{OrderId, Ticker, UserId};
use crate::ledger::{LedgerEntry, StatementLine};
use crate::settlement::{Obligation, SettlementCalendar};
use crate::unit_of_work::{ChangeSet, IdempotencyRecord, Snapshot, Verdict};
use crate::wallet_event::{WalletEvent, WalletEventType};

#[derive(Debug)]
struct Tracked<T> {
    value: T,
    changed: bool,
}

impl<T> Tracked<T> {
    fn loaded(value: T) -> Self {
        Tracked {
            value,
            changed: false,
        }
    }
}

/// The accounts, positions and holds a unit of work loaded, with the changes made to them and
/// the ledger entries, wallet events and last trades those changes produced.
#[derive(Debug)]
pub struct WalletBook {
    default_currency: Currency,
    fees: Arc<FeeSchedule>,
    calendar: Arc<SettlementCalendar>,
    accounts: HashMap<UserId, Tracked<Account>>,
    positions: HashMap<(UserId, Ticker), Tracked<Position>>,
    holds: HashMap<OrderId, Tracked<Hold>>,
    idempotency: HashMap<(UserId, String), IdempotencyRecord>,
    new_idempotency: Vec<IdempotencyRecord>,
    verdicts: HashMap<String, Verdict>,
    new_verdicts: Vec<Verdict>,
    ledger: Vec<LedgerEntry>,
    outbox: Vec<WalletEvent>,
    last_trades: HashMap<Ticker, LastTrade>,
    open_obligations: Vec<Obligation>,
    new_obligations: Vec<Obligation>,
    settled_obligations: Vec<Obligation>,
    action_progress: Option<ActionRecord>,
    entitlements: Vec<Entitlement>,
    paid_entitlements: Vec<Entitlement>,
}

impl WalletBook {
    /// A book over the rows of `snapshot`; accounts it opens use `default_currency`.
    #[must_use]
    pub fn new(snapshot: Snapshot, default_currency: Currency) -> Self {
        WalletBook {
            default_currency,
            fees: Arc::new(FeeSchedule::none()),
            calendar: Arc::new(SettlementCalendar::immediate()),
            accounts: snapshot
                .accounts
                .into_iter()
                .map(|account| (account.user_id.clone(), Tracked::loaded(account)))
                .collect(),
            positions: snapshot
                .positions
                .into_iter()
                .map(|position| {
                    (
                        (position.user_id.clone(), position.ticker.clone()),
                        Tracked::loaded(position),
                    )
                })
                .collect(),
            holds: snapshot
                .holds
                .into_iter()
                .map(|hold| (hold.order_id, Tracked::loaded(hold)))
                .collect(),
            idempotency: snapshot
                .idempotency
                .into_iter()
                .map(|record| ((record.user_id.clone(), record.key.clone()), record))
                .collect(),
            new_idempotency: Vec::new(),
            verdicts: snapshot
                .verdicts
                .into_iter()
                .map(|verdict| (verdict.delivery.clone(), verdict))
                .collect(),
            new_verdicts: Vec::new(),
            ledger: Vec::new(),
            outbox: Vec::new(),
            last_trades: HashMap::new(),
            open_obligations: snapshot.obligations,
            new_obligations: Vec::new(),
            settled_obligations: Vec::new(),
            action_progress: None,
            entitlements: Vec::new(),
            paid_entitlements: Vec::new(),
        }
    }

    /// Stores `record` as the progress of its corporate action with this book's changes; the
    /// store checks its version, so two runs of one batch cannot both commit.
    pub fn record_action_progress(&mut self, record: ActionRecord) {
        self.action_progress = Some(record);
    }

    /// Records the cash a holder is owed until its payment date.
    pub fn record_entitlement(&mut self, entitlement: Entitlement) {
        self.entitlements.push(entitlement);
    }

    pub(crate) fn mark_paid(&mut self, entitlement: Entitlement) {
        self.paid_entitlements.push(entitlement);
    }

    /// The active SELL holds of `user` in `ticker`, by order id.
    pub(crate) fn active_sell_holds(&self, user: &UserId, ticker: &Ticker) -> Vec<Hold> {
        let mut holds: Vec<Hold> = self
            .holds
            .values()
            .map(|tracked| &tracked.value)
            .filter(|hold| {
                &hold.user_id == user
                    && &hold.ticker == ticker
                    && hold.side == crate::hold::Side::Sell
                    && hold.status.is_active()
            })
            .cloned()
            .collect();
        holds.sort_by_key(|hold| hold.order_id);
        holds
    }

    /// Charges `fees` on the fills this book settles (none by default).
    #[must_use]
    pub fn with_fees(mut self, fees: Arc<FeeSchedule>) -> Self {
        self.fees = fees;
        self
    }

    /// Settles fills on `calendar`'s cycle (at once by default).
    #[must_use]
    pub fn with_settlement(mut self, calendar: Arc<SettlementCalendar>) -> Self {
        self.calendar = calendar;
        self
    }

    /// The settlement cycle of the fills this book books.
    #[must_use]
    pub fn calendar(&self) -> &SettlementCalendar {
        &self.calendar
    }

    /// The open obligations of `user`: those loaded and those this book created.
    pub fn open_obligations<'a>(
        &'a self,
        user: &'a UserId,
    ) -> impl Iterator<Item = &'a Obligation> {
        self.open_obligations
            .iter()
            .chain(&self.new_obligations)
            .filter(move |obligation| &obligation.user_id == user)
            .filter(|obligation| {
                !self
                    .settled_obligations
                    .iter()
                    .any(|settled| settled.key == obligation.key)
            })
    }

    pub(crate) fn add_obligation(&mut self, obligation: Obligation) {
        self.new_obligations.push(obligation);
    }

    pub(crate) fn mark_settled(&mut self, obligation: Obligation) {
        self.settled_obligations.push(obligation);
    }

    /// The fees this book charges on fills.
    #[must_use]
    pub fn fees(&self) -> &FeeSchedule {
        &self.fees
    }

    /// The currency of accounts opened by this book.
    #[must_use]
    pub fn default_currency(&self) -> Currency {
        self.default_currency
    }

    /// The account of `user` as it stands in the book.
    #[must_use]
    pub fn account(&self, user: &UserId) -> Option<&Account> {
        self.accounts.get(user).map(|tracked| &tracked.value)
    }

    /// The position of `user` in `ticker` as it stands in the book.
    #[must_use]
    pub fn position(&self, user: &UserId, ticker: &Ticker) -> Option<&Position> {
        self.positions
            .get(&(user.clone(), ticker.clone()))
            .map(|tracked| &tracked.value)
    }

    /// The hold of `order` as it stands in the book.
    #[must_use]
    pub fn hold(&self, order: OrderId) -> Option<&Hold> {
        self.holds.get(&order).map(|tracked| &tracked.value)
    }

    /// The stored idempotency record of `key`, if the request was applied before.
    #[must_use]
    pub fn idempotency_record(&self, user: &UserId, key: &str) -> Option<&IdempotencyRecord> {
        self.idempotency.get(&(user.clone(), key.to_owned()))
    }

    /// Ledger entries written so far.
    #[must_use]
    pub fn ledger(&self) -> &[LedgerEntry] {
        &self.ledger
    }

    /// Wallet events published so far.
    #[must_use]
    pub fn outbox(&self) -> &[WalletEvent] {
        &self.outbox
    }

    pub(crate) fn put_account(&mut self, account: Account) {
        account.assert_invariants();
        let key = account.user_id.clone();
        self.accounts.insert(
            key,
            Tracked {
                value: account,
                changed: true,
            },
        );
    }

    pub(crate) fn put_position(&mut self, position: Position) {
        position.assert_invariants();
        let key = (position.user_id.clone(), position.ticker.clone());
        self.positions.insert(
            key,
            Tracked {
                value: position,
                changed: true,
            },
        );
    }

    /// The hold of `order` with whether this book changed it, to restore with
    /// [`WalletBook::restore_hold`].
    pub(crate) fn hold_state(&self, order: OrderId) -> Option<(Hold, bool)> {
        self.holds
            .get(&order)
            .map(|tracked| (tracked.value.clone(), tracked.changed))
    }

    /// Puts a hold back in the state [`WalletBook::hold_state`] took.
    pub(crate) fn restore_hold(&mut self, (hold, changed): (Hold, bool)) {
        self.holds.insert(
            hold.order_id,
            Tracked {
                value: hold,
                changed,
            },
        );
    }

    pub(crate) fn put_hold(&mut self, hold: Hold) {
        hold.assert_invariants();
        self.holds.insert(
            hold.order_id,
            Tracked {
                value: hold,
                changed: true,
            },
        );
    }

    /// The dead-letter decision already taken for `delivery`, if any.
    pub(crate) fn verdict(&self, delivery: &str) -> Option<&Verdict> {
        self.verdicts.get(delivery)
    }

    pub(crate) fn remember_verdict(&mut self, verdict: Verdict) {
        self.verdicts
            .insert(verdict.delivery.clone(), verdict.clone());
        self.new_verdicts.push(verdict);
    }

    pub(crate) fn remember_idempotency(&mut self, record: IdempotencyRecord) {
        self.idempotency
            .insert((record.user_id.clone(), record.key.clone()), record.clone());
        self.new_idempotency.push(record);
    }

    pub(crate) fn record_trade(&mut self, ticker: &Ticker, price: Price, now: DateTime<Utc>) {
        self.last_trades.insert(
            ticker.clone(),
            LastTrade {
                ticker: ticker.clone(),
                price,
                traded_at: now,
            },
        );
    }

    /// Appends the ledger entry of one step, its `*_after` fields taken from `account`, and
    /// announces it as `event`, with the entry's statement line and the step's id.
    pub(crate) fn book(
        &mut self,
        entry: LedgerDraft,
        event: EventKind,
        account: &Account,
        now: DateTime<Utc>,
    ) {
        let entry = LedgerEntry {
            user_id: account.user_id.clone(),
            entry_type: entry.entry_type,
            order_id: entry.order_id,
            step_key: entry.step_key,
            fee_name: entry.fee_name,
            cash_amount: entry.cash_amount,
            blocked_amount: entry.blocked_amount,
            settled_amount: entry.settled_amount,
            ticker: entry.ticker,
            quantity: entry.quantity,
            blocked_quantity: entry.blocked_quantity,
            balance_after: account.balance,
            blocked_balance_after: account.blocked_balance,
            settled_balance_after: account.settled_balance,
            occurred_at: now,
        };
        let announcement = Announcement {
            step_key: entry.step_key.clone(),
            event_type: event.event_type,
            order_id: entry.order_id,
            ticker: entry.ticker.clone(),
            quantity: event.quantity,
            reason: event.reason,
            line: StatementLine::of(&entry),
        };
        self.ledger.push(entry);
        self.announce(announcement, account, now);
    }

    /// Books `steps` in turn, each entry's `*_after` fields being `account`, as it stood before
    /// the first, moved by that entry and the ones before it.
    pub(crate) fn book_in_turn(
        &mut self,
        account: &Account,
        steps: Vec<(LedgerDraft, EventKind)>,
        now: DateTime<Utc>,
    ) {
        let mut after = account.clone();
        for (entry, event) in steps {
            after.balance = Money::from_stored(after.balance.value() + entry.cash_amount);
            after.blocked_balance =
                Money::from_stored(after.blocked_balance.value() + entry.blocked_amount);
            after.settled_balance += entry.settled_amount;
            self.book(entry, event, &after, now);
        }
    }

    /// Publishes a wallet event, with `account`'s balances after the step it announces.
    pub(crate) fn announce(
        &mut self,
        announcement: Announcement,
        account: &Account,
        now: DateTime<Utc>,
    ) {
        let scale = account.currency.scale();
        let mut cash = |mut value: Decimal| {
            value.rescale(scale);
            value
        };
        let line = announcement.line;
        self.outbox.push(WalletEvent {
            event_id: WalletEvent::id_for_step(&announcement.step_key),
            event_type: announcement.event_type,
            user_id: account.user_id.clone(),
            order_id: announcement.order_id,
            transaction_type: line.transaction_type,
            amount: line.amount.map(&mut cash),
            cash_amount: cash(line.cash_amount),
            ticker: announcement.ticker,
            quantity: announcement.quantity,
            reason: announcement.reason,
            balance_after: account.balance,
            blocked_balance_after: account.blocked_balance,
            occurred_at: now,
        });
    }

    /// Everything the book changed, for [`crate::ports::WalletStore::commit`].
    #[must_use]
    pub fn into_changes(self) -> ChangeSet {
        fn changed<K, T>(rows: HashMap<K, Tracked<T>>) -> Vec<T> {
            rows.into_values()
                .filter(|tracked| tracked.changed)
                .map(|tracked| tracked.value)
                .collect()
        }
        let mut accounts = changed(self.accounts);
        accounts.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        let mut positions = changed(self.positions);
        positions.sort_by(|a, b| (&a.user_id, &a.ticker).cmp(&(&b.user_id, &b.ticker)));
        let mut holds = changed(self.holds);
        holds.sort_by_key(|hold| hold.order_id);
        let mut last_trades: Vec<LastTrade> = self.last_trades.into_values().collect();
        last_trades.sort_by(|a, b| a.ticker.cmp(&b.ticker));
        ChangeSet {
            accounts,
            positions,
            holds,
            ledger: self.ledger,
            outbox: self.outbox,
            last_trades,
            idempotency: self.new_idempotency,
            verdicts: self.new_verdicts,
            obligations: self.new_obligations,
            settled_obligations: self.settled_obligations,
            action_progress: self.action_progress,
            entitlements: self.entitlements,
            paid_entitlements: self.paid_entitlements,
        }
    }
}

/// A ledger entry before the account's `*_after` values are known.
#[derive(Debug)]
pub(crate) struct LedgerDraft {
    pub entry_type: crate::ledger::EntryType,
    pub order_id: Option<OrderId>,
    pub step_key: String,
    pub fee_name: Option<String>,
    pub cash_amount: Decimal,
    pub blocked_amount: Decimal,
    pub settled_amount: Decimal,
    pub ticker: Option<Ticker>,
    pub quantity: Decimal,
    pub blocked_quantity: Decimal,
}

/// What a booked step is announced as.
#[derive(Debug)]
pub(crate) struct EventKind {
    pub event_type: WalletEventType,
    /// Shares the event is about.
    pub quantity: Option<Decimal>,
    pub reason: Option<String>,
}

impl EventKind {
    pub(crate) fn new(event_type: WalletEventType, quantity: Option<Decimal>) -> Self {
        EventKind {
            event_type,
            quantity,
            reason: None,
        }
    }

    pub(crate) fn because(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_owned());
        self
    }
}

/// A wallet event before its id, balances and time are set.
#[derive(Debug)]
pub(crate) struct Announcement {
    pub step_key: String,
    pub event_type: WalletEventType,
    pub order_id: Option<OrderId>,
    pub ticker: Option<Ticker>,
    pub quantity: Option<Decimal>,
    pub reason: Option<String>,
    pub line: StatementLine,
}
