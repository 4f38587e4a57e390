//! `OrderEvent::parse` on arbitrary record values: it must never panic, and an event it
//! accepts must keep its promises (a fill never above the order, amounts in range).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_domain::amount::AMOUNT_LIMIT;
use wallet_domain::{OrderEvent, OrderStatus};

fuzz_target!(|value: &[u8]| {
    let Ok(event) = OrderEvent::parse(value) else {
        return;
    };
    assert!(event.quantity.value() < AMOUNT_LIMIT && !event.quantity.is_zero());
    match event.status {
        OrderStatus::PartiallyFilled(fill) | OrderStatus::Filled(fill) => {
            assert!(fill.filled_quantity <= event.quantity, "{event:?}");
            assert!(!fill.executed_price.is_zero(), "{event:?}");
        }
        OrderStatus::Pending { limit_price } => assert!(!limit_price.is_zero(), "{event:?}"),
        OrderStatus::Ended(_) | OrderStatus::Ignored(_) => {}
    }
});
