//! Names of the steps an order goes through. A step key is unique in the ledger, and the id of
//! the wallet event that announces a step is derived from it.

use crate::amount::Quantity;
use crate::ids::OrderId;
use crate::ledger::EntryType;

/// `order:<id>:<TYPE>` for steps that happen once per order.
pub(crate) fn once(order: OrderId, step: &str) -> String {
    format!("order:{order}:{step}")
}

/// `order:<id>:<TYPE>:<cumulative quantity>` for fills, which happen once per cumulative fill.
pub(crate) fn fill(order: OrderId, entry_type: EntryType, filled: Quantity) -> String {
    format!("order:{order}:{entry_type}:{filled}")
}
