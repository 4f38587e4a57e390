//! Names of the steps the wallet books. A step key is unique in the ledger, and the id of the
//! wallet event that announces a step is derived from it, so two different steps must never
//! share a key: each format below can be read back into its parts.

use uuid::Uuid;

use crate::amount::Quantity;
use crate::ids::{OrderId, UserId};
use crate::ledger::EntryType;

/// `order:<id>:<TYPE>` for steps that happen once per order.
pub(crate) fn once(order: OrderId, step: &str) -> String {
    format!("order:{order}:{step}")
}

/// `order:<id>:<TYPE>:<cumulative quantity>` for fills, which happen once per cumulative fill.
pub(crate) fn fill(order: OrderId, entry_type: EntryType, filled: Quantity) -> String {
    format!("order:{order}:{entry_type}:{filled}")
}

/// `order:<id>:FEE:<fee name>:<cumulative quantity>` for the fee a fill charges (a fee name holds
/// no `:`, see [`crate::fees::FEE_NAME_LENGTH_MAX`]).
pub(crate) fn fee(order: OrderId, fee_name: &str, filled: Quantity) -> String {
    format!("order:{order}:FEE:{fee_name}:{filled}")
}

/// `settle:<fill step key>` for the settlement of the obligation a fill step created.
pub(crate) fn cash_settlement(fill_step: &str) -> String {
    format!("settle:{fill_step}")
}

/// `<deposit|withdrawal>/<user>/<idempotency key>` for a cash request made under a key.
///
/// A user id never holds `/` (see [`crate::ids::USER_ID_PUNCTUATION`]), so the first `/` after
/// the prefix ends it and the key, whatever it holds, is the rest: no user and key can make the
/// key of another user and key. (The first format, `deposit:<user>:key:<key>`, could: user `u`
/// with key `x:key:y` and user `u:key:x` with key `y` met. Its `:` keeps its keys apart from
/// these.)
pub(crate) fn keyed_cash(entry_type: EntryType, user: &UserId, key: &str) -> String {
    format!("{}/{user}/{key}", entry_type.as_str().to_ascii_lowercase())
}

/// `<deposit|withdrawal>:<request id>` for a cash request without an idempotency key.
pub(crate) fn cash_request(entry_type: EntryType, request: Uuid) -> String {
    format!("{}:{request}", entry_type.as_str().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_different_users_and_keys_never_meet() {
        let user = |text: &str| UserId::parse(text).unwrap();
        assert_ne!(
            keyed_cash(EntryType::Deposit, &user("u"), "x:key:y"),
            keyed_cash(EntryType::Deposit, &user("u:key:x"), "y")
        );
        // The first format's key for user `u:key:a` and key `b`.
        assert_ne!(
            keyed_cash(EntryType::Deposit, &user("u"), "a/b"),
            "deposit:u:key:a/b"
        );
        assert!(
            UserId::parse("u/a").is_err(),
            "a user id never holds the separator"
        );
        assert_eq!(
            keyed_cash(EntryType::Withdrawal, &user("investor-42"), "k1"),
            "withdrawal/investor-42/k1"
        );
    }
}
