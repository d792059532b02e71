//! Returns decided and applied: a partial return of a split delivery, the
//! refund to the cent, credits on unpaid orders, every refusal, and a
//! property test over random orders, adjustments, parcels and returns.

use super::*;
use crate::command::tests::{line, move_to, order, pack, pay, run, run_with, staff};
use crate::command::{OrderCommand, OrderError, ReturnRequestLine};
use crate::money::Currency;
use crate::order::StockTake;
use crate::order::{PaymentMethod, PaymentStatus};
use crate::shipment::Carrier;
use proptest::prelude::*;
use rust_decimal_macros::dec;
use time::macros::datetime;

fn eur(amount: Decimal) -> Money {
    Money::new(amount, Currency::Eur)
}

fn want(items: &[(usize, u32)]) -> OrderCommand {
    OrderCommand::RequestReturn {
        lines: items
            .iter()
            .map(|(l, q)| ReturnRequestLine {
                line_id: line(*l),
                quantity: Quantity::new(*q).unwrap(),
                reason: "too small".into(),
                exchange_sku: None,
            })
            .collect(),
        action: ReturnAction::Refund,
        comment: Some("Thank you".into()),
        override_window: false,
    }
}

fn receive(id: &str, items: &[(usize, u32, bool)]) -> OrderCommand {
    OrderCommand::ReceiveReturn {
        return_id: id.into(),
        lines: items
            .iter()
            .map(|(l, q, restock)| ReceivedLine {
                line_id: line(*l),
                quantity: *q,
                restocked: *restock,
            })
            .collect(),
    }
}

fn refund(id: &str, amount: Option<Decimal>, reason: Option<&str>) -> OrderCommand {
    OrderCommand::RefundReturn {
        return_id: id.into(),
        amount: amount.map(eur),
        reason: reason.map(str::to_string),
    }
}

fn approve(id: &str) -> OrderCommand {
    OrderCommand::ApproveReturn {
        return_id: id.into(),
    }
}

/// L1 × 1, L2 × 1, L3 × 2 at 10.00 (40.00 + 4.95 shipping), shipped in two
/// parcels — S1: L1 and one of L3; S2: L2 and the other of L3 — both
/// delivered.
fn split_delivery(method: PaymentMethod) -> Order {
    let mut order = order([1, 1, 2], 5, method);
    run(
        &mut order,
        pack(&[(1, 1), (3, 1)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    run(
        &mut order,
        pack(&[(2, 1), (3, 1)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    for parcel in ["S1", "S2"] {
        run(
            &mut order,
            move_to(parcel, ShipmentStatus::Delivered),
            &staff(),
            5,
        )
        .unwrap();
    }
    order
}

fn stock_back(decision: &crate::command::Decision) -> u32 {
    decision
        .effects
        .iter()
        .map(|e| match e {
            Effect::ReturnStock(t) => t.quantity,
            _ => 0,
        })
        .sum()
}

#[test]
fn a_partial_return_of_a_split_delivery_refunds_what_was_paid_for_it() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(&mut order, pay(dec!(40.00)), &staff(), 0).unwrap();
    // One from each parcel and one of the third line's two.
    let requested = run(
        &mut order,
        want(&[(1, 1), (2, 1), (3, 1)]),
        &Actor::Guest,
        0,
    )
    .unwrap();
    assert_eq!(requested.events[0].name(), "ReturnRequested");
    assert_eq!(order.returns[0].id, "R1");
    assert_eq!(order.units_returnable(&line(3)), 1);
    assert_eq!(order.units_returnable(&line(1)), 0);
    run(&mut order, approve("R1"), &staff(), 0).unwrap();
    let received = run(
        &mut order,
        receive("R1", &[(1, 1, true), (2, 1, true), (3, 1, false)]),
        &staff(),
        5,
    )
    .unwrap();
    assert_eq!(stock_back(&received), 2, "the third was not sellable");
    let refunded = run(&mut order, refund("R1", None, None), &staff(), 0).unwrap();
    let money = order.returns[0].refund.clone().unwrap();
    assert_eq!(
        money.amount.amount(),
        dec!(30.00),
        "no shipping: not all came back"
    );
    // 40.00 of 44.95 was paid: 4.95 was still due and is credited, the
    // rest goes back.
    assert_eq!(money.credit.amount(), dec!(4.95));
    assert_eq!(money.money_out.amount(), dec!(25.05));
    assert_eq!(money.credit_note, "CN-2026-000001");
    // The credit note's VAT, rounded per line as the order's was: three
    // lines of 10.00 at 19 % hold 1.60 each.
    let vat: Vec<(Decimal, Decimal)> = money
        .taxes
        .iter()
        .map(|t| (t.rate, t.tax.amount()))
        .collect();
    assert_eq!(vat, [(dec!(19), dec!(4.80))]);
    assert_eq!(order.amount_due().amount(), dec!(0.00));
    assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(refunded.effects, [Effect::ClaimCreditNote { number: 1 }]);
    assert_eq!(refunded.events[0].name(), "RefundIssued");
    assert_eq!(order.returns[0].status, ReturnStatus::Refunded);

    // The last unit comes back too: now shipping is refunded with it, and
    // everything paid has come back.
    run(&mut order, want(&[(3, 1)]), &staff(), 0).unwrap();
    run(&mut order, approve("R2"), &staff(), 0).unwrap();
    run(&mut order, receive("R2", &[(3, 1, true)]), &staff(), 5).unwrap();
    run(&mut order, refund("R2", None, None), &staff(), 0).unwrap();
    let second = order.returns[1].refund.clone().unwrap();
    assert_eq!(second.amount.amount(), dec!(14.95), "the unit and shipping");
    assert_eq!(
        order.refunded_out().amount(),
        dec!(40.00),
        "all that was paid"
    );
    assert_eq!(order.payment_status, PaymentStatus::Refunded);
}

#[test]
fn a_completed_order_takes_returns_and_nothing_else() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(&mut order, pay(dec!(44.95)), &staff(), 0).unwrap();
    assert_eq!(
        order.status,
        crate::order::OrderStatus::Completed,
        "delivered and paid"
    );
    run(&mut order, want(&[(1, 1)]), &Actor::Guest, 0).unwrap();
    run(&mut order, approve("R1"), &staff(), 0).unwrap();
    run(&mut order, receive("R1", &[(1, 1, true)]), &staff(), 5).unwrap();
    run(&mut order, refund("R1", None, None), &staff(), 0).unwrap();
    assert_eq!(order.refunded_out().amount(), dec!(10.00));
    assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    assert!(matches!(
        run(
            &mut order,
            OrderCommand::Adjust {
                amount: eur(dec!(-1)),
                reason: "x".into(),
                notify_customer: false
            },
            &staff(),
            0
        ),
        Err(OrderError::Closed { .. })
    ));
}

#[test]
fn a_refund_on_a_completed_order_does_not_complete_it_again() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(&mut order, pay(dec!(44.95)), &staff(), 0).unwrap();
    run(&mut order, want(&[(1, 1)]), &Actor::Guest, 0).unwrap();
    run(&mut order, approve("R1"), &staff(), 0).unwrap();
    run(&mut order, receive("R1", &[(1, 1, false)]), &staff(), 5).unwrap();
    let nothing = run(
        &mut order,
        refund("R1", Some(dec!(0)), Some("worn out")),
        &staff(),
        0,
    )
    .unwrap();
    let names: Vec<_> = nothing.events.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["RefundIssued"], "no second OrderCompleted");
    assert_eq!(order.payment_status, PaymentStatus::Paid);
}

#[test]
fn an_unpaid_order_gets_a_credit_and_no_money_out() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(&mut order, want(&[(3, 2)]), &Actor::Guest, 0).unwrap();
    run(&mut order, approve("R1"), &staff(), 0).unwrap();
    run(&mut order, receive("R1", &[(3, 2, true)]), &staff(), 5).unwrap();
    run(&mut order, refund("R1", None, None), &staff(), 0).unwrap();
    let money = order.returns[0].refund.clone().unwrap();
    assert_eq!(money.credit.amount(), dec!(20.00));
    assert!(money.money_out.is_zero());
    assert_eq!(order.amount_due().amount(), dec!(24.95));
    assert_eq!(order.payment_status, PaymentStatus::Pending);
}

#[test]
fn adjustments_lower_the_refund_as_they_lowered_the_price() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(
        &mut order,
        OrderCommand::Adjust {
            amount: eur(dec!(-4.00)),
            reason: "late".into(),
            notify_customer: false,
        },
        &staff(),
        0,
    )
    .unwrap();
    let charged = order.lines[2].charged();
    run(&mut order, want(&[(3, 1)]), &Actor::Guest, 0).unwrap();
    run(&mut order, approve("R1"), &staff(), 0).unwrap();
    run(&mut order, receive("R1", &[(3, 1, true)]), &staff(), 5).unwrap();
    run(&mut order, refund("R1", None, None), &staff(), 0).unwrap();
    let half = order.returns[0].refund.clone().unwrap().amount;
    assert!(half.amount() < dec!(10.00), "{half}");
    assert_eq!(half, charged.scaled(dec!(0.5)).rounded());
}

#[test]
fn returns_refuse_what_cannot_come_back() {
    let mut order = order([1, 1, 2], 5, PaymentMethod::Invoice);
    run(
        &mut order,
        pack(&[(1, 1)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    let before = order.clone();
    let refused = |order: &mut Order, command| run(order, command, &Actor::Guest, 0);
    // Packed but not left; never shipped.
    assert!(matches!(
        refused(&mut order, want(&[(1, 1)])),
        Err(OrderError::Return(ReturnError::NotShipped { index: 0, .. }))
    ));
    run(
        &mut order,
        move_to("S1", ShipmentStatus::Shipped),
        &staff(),
        5,
    )
    .unwrap();
    let before_request = order.clone();
    assert!(matches!(
        refused(&mut order, want(&[(2, 1)])),
        Err(OrderError::Return(ReturnError::NotShipped { .. }))
    ));
    assert!(matches!(
        refused(&mut order, want(&[(1, 2)])),
        Err(OrderError::Return(ReturnError::MoreThanReturnable {
            returnable: 1,
            ..
        }))
    ));
    assert!(matches!(
        refused(&mut order, want(&[(1, 1), (1, 1)])),
        Err(OrderError::Return(ReturnError::LineTwice { index: 1, .. }))
    ));
    let mut odd = want(&[(1, 1)]);
    if let OrderCommand::RequestReturn { lines, .. } = &mut odd {
        lines[0].reason = "bored".into();
    }
    assert!(matches!(
        refused(&mut order, odd),
        Err(OrderError::Return(ReturnError::UnknownReason { .. }))
    ));
    assert_eq!(order, before_request, "refusals change nothing");
    let _ = before;

    // The same units twice: the second return finds none left.
    run(&mut order, want(&[(1, 1)]), &Actor::Guest, 0).unwrap();
    assert!(matches!(
        refused(&mut order, want(&[(1, 1)])),
        Err(OrderError::Return(ReturnError::MoreThanReturnable {
            returnable: 0,
            ..
        }))
    ));
    // Out of order: no refund before receipt, no receipt before approval.
    assert!(matches!(
        run(&mut order, refund("R1", None, None), &staff(), 0),
        Err(OrderError::Return(ReturnError::OutOfOrder { .. }))
    ));
    assert!(matches!(
        run(&mut order, receive("R1", &[(1, 1, true)]), &staff(), 5),
        Err(OrderError::Return(ReturnError::OutOfOrder { .. }))
    ));
    // Rejected: its units are free for another return, and it takes no
    // receipt.
    run(
        &mut order,
        OrderCommand::RejectReturn {
            return_id: "R1".into(),
            reason: "worn".into(),
        },
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.returns[0].rejection_reason.as_deref(), Some("worn"));
    assert!(matches!(
        run(&mut order, receive("R1", &[(1, 1, true)]), &staff(), 5),
        Err(OrderError::Return(ReturnError::OutOfOrder { .. }))
    ));
    assert_eq!(order.units_returnable(&line(1)), 1);
}

#[test]
fn refunds_are_never_above_what_is_refundable_and_lower_ones_say_why() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(&mut order, want(&[(1, 1)]), &Actor::Guest, 0).unwrap();
    run(&mut order, approve("R1"), &staff(), 0).unwrap();
    run(&mut order, receive("R1", &[(1, 1, false)]), &staff(), 5).unwrap();
    assert!(matches!(
        run(
            &mut order,
            refund("R1", Some(dec!(10.01)), None),
            &staff(),
            0
        ),
        Err(OrderError::Return(ReturnError::AboveRefundable { .. }))
    ));
    assert!(matches!(
        run(&mut order, refund("R1", Some(dec!(5)), None), &staff(), 0),
        Err(OrderError::Return(ReturnError::BadReason))
    ));
    run(
        &mut order,
        refund("R1", Some(dec!(5)), Some("scratched")),
        &staff(),
        0,
    )
    .unwrap();
    let money = order.returns[0].refund.clone().unwrap();
    assert_eq!(money.amount.amount(), dec!(5.00));
    assert_eq!(money.reduced_because.as_deref(), Some("scratched"));
    // A lower refund carries its own VAT: the VAT in 5.00 at 19 %.
    assert_eq!(money.taxes[0].gross.amount(), dec!(5.00));
    assert_eq!(money.taxes[0].tax.amount(), dec!(0.80));
}

#[test]
fn the_window_binds_shoppers_and_staff_may_override_it() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    let late = datetime!(2027-01-05 10:00 UTC);
    assert!(matches!(
        run_with(&mut order, want(&[(1, 1)]), &Actor::Guest, &[], late),
        Err(OrderError::Return(ReturnError::OutsideWindow { .. }))
    ));
    assert!(matches!(
        run_with(&mut order, want(&[(1, 1)]), &staff(), &[], late),
        Err(OrderError::Return(ReturnError::OutsideWindow { .. }))
    ));
    let mut overriding = want(&[(1, 1)]);
    if let OrderCommand::RequestReturn {
        override_window, ..
    } = &mut overriding
    {
        *override_window = true;
    }
    run_with(&mut order, overriding, &staff(), &[], late).unwrap();
    assert!(order.returns[0].window_overridden);
    assert!(order
        .history
        .last()
        .unwrap()
        .detail
        .contains("after the return window"));
}

#[test]
fn a_replacement_is_sent_as_a_line_at_zero_and_then_closed() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    run(&mut order, pay(dec!(44.95)), &staff(), 0).unwrap();
    assert_eq!(order.status, crate::order::OrderStatus::Completed);
    let mut swap = want(&[(1, 1)]);
    if let OrderCommand::RequestReturn { action, .. } = &mut swap {
        *action = ReturnAction::Replacement;
    }
    run(&mut order, swap, &Actor::Guest, 0).unwrap();
    let approved = run(&mut order, approve("R1"), &staff(), 5).unwrap();
    // A new line at 0 for the unit to send, taken from stock; the order is
    // open again to pack it, and the total stays.
    let added = order.lines.last().unwrap();
    assert_eq!((added.id.as_str(), added.sku.as_str()), ("L4", "A"));
    assert!(added.total.is_zero());
    assert_eq!(order.returns[0].replacement_lines, [line(4)]);
    assert_eq!(order.status, crate::order::OrderStatus::Open);
    assert_eq!(order.totals.total.amount(), dec!(44.95));
    assert_eq!(order.units_left_to_pack(&line(4)), 1);
    assert!(approved.effects.contains(&Effect::TakeStock(StockTake {
        sku: crate::types::Sku::parse("A").unwrap(),
        quantity: 1
    })));
    run(&mut order, receive("R1", &[(1, 1, true)]), &staff(), 5).unwrap();
    run(
        &mut order,
        OrderCommand::CloseReturn {
            return_id: "R1".into(),
        },
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.returns[0].status, ReturnStatus::Closed);
    assert!(
        order.refunded_out().is_zero(),
        "a replacement pays nothing back"
    );
}

#[test]
fn an_exchange_sends_the_other_product() {
    let mut order = split_delivery(PaymentMethod::Invoice);
    let exchange = OrderCommand::RequestReturn {
        lines: vec![ReturnRequestLine {
            line_id: line(3),
            quantity: Quantity::new(2).unwrap(),
            reason: "too large".into(),
            exchange_sku: Some(crate::types::Sku::parse("B").unwrap()),
        }],
        action: ReturnAction::Exchange,
        comment: None,
        override_window: false,
    };
    run(&mut order, exchange, &Actor::Guest, 0).unwrap();
    run(&mut order, approve("R1"), &staff(), 5).unwrap();
    let added = order.lines.last().unwrap();
    assert_eq!((added.sku.as_str(), added.quantity.get()), ("B", 2));
    run(&mut order, receive("R1", &[(3, 2, true)]), &staff(), 5).unwrap();
    run(
        &mut order,
        OrderCommand::CloseReturn {
            return_id: "R1".into(),
        },
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.returns[0].status, ReturnStatus::Closed);
    assert!(matches!(
        run(
            &mut order,
            OrderCommand::CloseReturn {
                return_id: "R1".into()
            },
            &staff(),
            0
        ),
        Err(OrderError::Return(ReturnError::OutOfOrder { .. }))
    ));
}

#[test]
fn a_parcel_returned_to_sender_is_taken_back_in_and_sent_again() {
    let mut order = order([1, 2, 1], 5, PaymentMethod::Invoice);
    run(
        &mut order,
        pack(&[(2, 2)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    run(
        &mut order,
        move_to("S1", ShipmentStatus::Shipped),
        &staff(),
        5,
    )
    .unwrap();
    let back = OrderCommand::ReceiveReturnedParcel {
        shipment_id: "S1".into(),
        restock: true,
    };
    assert!(matches!(
        run(&mut order, back.clone(), &staff(), 5),
        Err(OrderError::Return(ReturnError::NotBackFromCarrier(_)))
    ));
    run(
        &mut order,
        move_to("S1", ShipmentStatus::ReturnedToSender),
        &staff(),
        5,
    )
    .unwrap();
    let decision = run(&mut order, back.clone(), &staff(), 5).unwrap();
    assert_eq!(stock_back(&decision), 2);
    assert_eq!(order.lines[1].backordered, 2, "they hold no stock now");
    assert_eq!(order.units_left_to_pack(&line(2)), 2, "to send again");
    assert!(matches!(
        run(&mut order, back, &staff(), 5),
        Err(OrderError::Return(ReturnError::NotBackFromCarrier(_)))
    ));
    // Packing them again takes them from stock again.
    let packed = run(
        &mut order,
        pack(&[(2, 2)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    assert!(packed.effects.contains(&Effect::TakeStock(StockTake {
        sku: crate::types::Sku::parse("B").unwrap(),
        quantity: 2
    })));
}

proptest! {
    /// For random orders with an adjustment, parcels, a payment and returns
    /// received and refunded: money out never exceeds what was paid,
    /// refunds never exceed what the units cost, and when everything came
    /// back, the refunds are exactly what the order charged.
    #[test]
    fn refunds_never_exceed_what_was_paid(
        quantities in proptest::array::uniform3(1u32..=4),
        adjustment in -900i64..=300,
        paid_share in 0u32..=100,
        returns in proptest::collection::vec(proptest::array::uniform3(0u32..=4), 1..4),
    ) {
        let mut order = order(quantities, 20, PaymentMethod::Invoice);
        let _ = run(&mut order, OrderCommand::Adjust {
            amount: eur(Decimal::new(adjustment, 2)),
            reason: "goodwill".into(),
            notify_customer: false,
        }, &staff(), 0);
        let everything: Vec<(usize, u32)> =
            (1..=3).map(|l| (l, quantities[l - 1])).collect();
        run(&mut order, pack(&everything, Carrier::Other, None), &staff(), 20).unwrap();
        run(&mut order, move_to("S1", ShipmentStatus::Shipped), &staff(), 20).unwrap();
        let total = order.totals.total;
        let paid = (total.scaled(Decimal::from(paid_share) / Decimal::ONE_HUNDRED)).rounded();
        if !paid.is_zero() {
            run(&mut order, pay(paid.amount()), &staff(), 0).unwrap();
        }
        let mut refunded_units = [0u32; 3];
        let mut shelved = 0u32;
        for (n, wanted) in returns.iter().enumerate() {
            let items: Vec<(usize, u32)> = (1..=3)
                .filter(|l| wanted[l - 1] > 0)
                .map(|l| (l, wanted[l - 1].min(order.units_returnable(&line(l)))))
                .filter(|(_, q)| *q > 0)
                .collect();
            if items.is_empty() {
                continue;
            }
            let id = format!("R{}", order.returns.len() + 1);
            run(&mut order, want(&items), &Actor::Guest, 0).unwrap();
            run(&mut order, approve(&id), &staff(), 0).unwrap();
            let got: Vec<(usize, u32, bool)> = items.iter().map(|(l, q)| (*l, *q, n % 2 == 0)).collect();
            let received = run(&mut order, receive(&id, &got), &staff(), 20).unwrap();
            // What goes back on the shelf is exactly what was restocked:
            // with every unit restocked, the stock is as before the sale.
            let restocked: u32 = got.iter().filter(|g| g.2).map(|g| g.1).sum();
            prop_assert_eq!(stock_back(&received), restocked);
            shelved += restocked;
            run(&mut order, refund(&id, None, None), &staff(), 0).unwrap();
            for (l, q) in &items {
                refunded_units[l - 1] += q;
            }
            prop_assert!(order.refunded_out().amount() <= order.paid().amount());
            // The credit note's VAT rows add up to what it refunds.
            let last = order.returns.last().and_then(|r| r.refund.clone()).unwrap();
            let gross: Decimal = last.taxes.iter().map(|t| t.gross.amount()).sum();
            prop_assert_eq!(gross, last.amount.amount());
            let refunds: Decimal = order.returns.iter().filter_map(|r| r.refund.as_ref()).map(|r| r.amount.amount()).sum();
            prop_assert!(refunds <= total.amount());
            prop_assert!(!order.amount_due().is_negative());
        }
        let all_back = (0..3).all(|i| refunded_units[i] == quantities[i]);
        if all_back {
            let refunds: Decimal = order.returns.iter().filter_map(|r| r.refund.as_ref()).map(|r| r.amount.amount()).sum();
            prop_assert_eq!(refunds, total.amount(), "everything back: everything refunded");
            prop_assert_eq!(order.refunded_out(), order.paid());
            prop_assert!(order.amount_due().is_zero());
        }
        let sold: u32 = quantities.iter().sum();
        prop_assert!(shelved <= sold, "never more back on the shelf than was sold");
    }
}
