//! Staff edits of placed orders: changing and removing lines, goodwill
//! adjustments, addresses, the customer's notice, and a property test over
//! any sequence of edits.

use super::tests::{add_line, line, move_to, order, pack, pay, run, run_with, staff};
use super::*;
use crate::money::Currency;
use crate::order::PaymentMethod;
use crate::product::fixtures::product;
use crate::tax::TaxClass;
use crate::types::TextLine;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::macros::datetime;

fn eur(amount: Decimal) -> Money {
    Money::new(amount, Currency::Eur)
}

fn change(n: usize, quantity: Option<u32>, unit_price: Option<Decimal>) -> OrderCommand {
    OrderCommand::ChangeLine {
        line_id: line(n),
        quantity: quantity.map(|q| Quantity::new(q).unwrap()),
        unit_price: unit_price.map(eur),
        notify_customer: false,
    }
}

fn remove(n: usize) -> OrderCommand {
    OrderCommand::RemoveLine {
        line_id: line(n),
        notify_customer: false,
    }
}

fn adjust(amount: Decimal, reason: &str) -> OrderCommand {
    OrderCommand::Adjust {
        amount: eur(amount),
        reason: reason.into(),
        notify_customer: false,
    }
}

fn stock_moves(decision: &Decision) -> i64 {
    decision
        .effects
        .iter()
        .map(|effect| match effect {
            Effect::TakeStock(t) => i64::from(t.quantity),
            Effect::ReturnStock(t) => -i64::from(t.quantity),
            _ => 0,
        })
        .sum()
}

#[test]
fn only_the_part_not_packed_of_a_line_changes_and_stock_follows() {
    // L1: 3 units, 2 of them from stock and 1 backordered (2 in stock).
    let mut order = order([3, 1, 1], 2, PaymentMethod::Invoice);
    assert_eq!(order.lines[0].backordered, 1);
    // Down to 2: the backordered unit goes first, no stock moves.
    let decision = run(&mut order, change(1, Some(2), None), &staff(), 5).unwrap();
    assert_eq!(stock_moves(&decision), 0);
    assert_eq!(order.lines[0].backordered, 0);
    // Down to 1: one unit back on the shelf.
    let decision = run(&mut order, change(1, Some(1), None), &staff(), 5).unwrap();
    assert_eq!(stock_moves(&decision), -1);
    // 1 + 1 + 1 units at 10.00; shipping stays as placed (free from 50.00).
    assert_eq!(order.totals.total.amount(), dec!(30.00));
    // Up to 4 with 2 on the shelf: 2 taken, 1 backordered.
    let decision = run(&mut order, change(1, Some(4), None), &staff(), 2).unwrap();
    assert_eq!(stock_moves(&decision), 2);
    assert_eq!(order.lines[0].backordered, 1);
    let names: Vec<_> = decision.events.iter().map(EventPayload::name).collect();
    assert_eq!(names, ["OrderLineChanged", "StockChanged"]);
    // A new price for the whole line while nothing is packed.
    run(&mut order, change(1, None, Some(dec!(7.50))), &staff(), 0).unwrap();
    assert_eq!(order.lines[0].total.amount(), dec!(30.00));
    assert_eq!(
        order.history.last().unwrap().action,
        HistoryAction::LineChanged
    );

    // Pack 2 of the line: it cannot go below 2, nor change its price.
    run(
        &mut order,
        pack(&[(1, 2)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    let before = order.clone();
    let packed = Err(OrderError::LinePacked {
        line_id: line(1),
        packed: 2,
    });
    assert_eq!(
        run(&mut order, change(1, Some(1), None), &staff(), 5),
        packed
    );
    assert_eq!(
        run(&mut order, change(1, None, Some(dec!(1))), &staff(), 5),
        packed
    );
    assert_eq!(
        run(&mut order, change(1, Some(4), None), &staff(), 5),
        Err(OrderError::NothingToChange)
    );
    assert_eq!(
        run(&mut order, change(9, Some(1), None), &staff(), 5),
        Err(OrderError::UnknownLine(line(9)))
    );
    let scarce = product("A", "10.00", 0, false);
    let now = datetime!(2026-11-29 10:00 UTC);
    assert_eq!(
        run_with(
            &mut order,
            change(1, Some(9), None),
            &staff(),
            &[scarce],
            now
        ),
        Err(OrderError::OutOfStock {
            sku: Sku::parse("A").unwrap(),
            available: 0
        })
    );
    assert_eq!(order, before, "refusals change nothing");

    // Removing it keeps the packed units and frees the rest.
    let decision = run(&mut order, remove(1), &staff(), 5).unwrap();
    assert_eq!(order.lines[0].quantity.get(), 2);
    assert_eq!(
        stock_moves(&decision),
        -1,
        "the backordered unit held no stock"
    );
    assert_eq!(
        run(&mut order, remove(1), &staff(), 5),
        Err(OrderError::LinePacked {
            line_id: line(1),
            packed: 2
        })
    );
}

#[test]
fn a_removed_line_leaves_the_order_its_stock_and_its_id() {
    let mut order = order([1, 2, 1], 5, PaymentMethod::Invoice);
    let decision = run(&mut order, remove(2), &staff(), 5).unwrap();
    assert_eq!(stock_moves(&decision), -2);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.removed_lines[0].id, line(2));
    assert_eq!(
        order.history.last().unwrap().action,
        HistoryAction::LineRemoved
    );
    let EventPayload::OrderLineChanged(event) = &decision.events[0] else {
        panic!("{:?}", decision.events)
    };
    assert_eq!((event.quantity_before, event.quantity), (2, 0));
    // 2 × 10.00 + 4.95 shipping.
    assert_eq!(order.totals.total.amount(), dec!(24.95));
    // Removing L3, the highest, does not free its id for the next line.
    run(&mut order, remove(3), &staff(), 5).unwrap();
    run(&mut order, add_line("A", 1, None), &staff(), 5).unwrap();
    assert_eq!(order.lines.last().unwrap().id.as_str(), "L4");
}

/// An order of one line at 19 % (20.00), one at 7 % (20.00) and shipping at
/// 19 % (4.95: it was placed at 40.00, below free shipping).
fn mixed_rates() -> Order {
    let mut order = order([2, 1, 1], 5, PaymentMethod::Invoice);
    run(&mut order, remove(3), &staff(), 5).unwrap();
    run(&mut order, remove(2), &staff(), 5).unwrap();
    let mut food = product("F", "10.00", 5, false);
    food.tax_class = TaxClass::Reduced;
    let now = datetime!(2026-11-29 10:00 UTC);
    run_with(&mut order, add_line("F", 2, None), &staff(), &[food], now).unwrap();
    order
}

#[test]
fn an_adjustment_is_split_over_the_rates_and_spread_over_the_lines() {
    let mut order = mixed_rates();
    assert_eq!(order.totals.total.amount(), dec!(44.95));
    let decision = run(&mut order, adjust(dec!(-10.00), "late parcel"), &staff(), 0).unwrap();
    // 24.95 of 44.95 is at 19 %, 20.00 at 7 %: −5.5506 and −4.4494, the
    // cent left over going to the larger remainder.
    let adjustment = &order.adjustments[0];
    assert_eq!(adjustment.id, "A1");
    assert_eq!(adjustment.author, staff());
    assert_eq!(adjustment.reason, "late parcel");
    let parts: Vec<(Decimal, Decimal)> = adjustment
        .by_rate
        .iter()
        .map(|p| (p.rate, p.amount.amount()))
        .collect();
    assert_eq!(parts, [(dec!(19), dec!(-5.55)), (dec!(7), dec!(-4.45))]);
    // The 19 % part over L1 (20.00) and shipping (4.95): −4.4489 and
    // −1.1010, the cent left over to L1.
    assert_eq!(order.lines[0].adjustment.amount(), dec!(-4.45));
    assert_eq!(order.shipping.adjustment.amount(), dec!(-1.10));
    assert_eq!(order.lines[1].adjustment.amount(), dec!(-4.45));
    assert_eq!(order.totals.subtotal.amount(), dec!(40.00));
    assert_eq!(order.totals.shipping.amount(), dec!(4.95));
    assert_eq!(order.totals.adjustments.amount(), dec!(-10.00));
    assert_eq!(order.totals.total.amount(), dec!(34.95));
    // The VAT falls with each rate's share: the VAT in 15.55 (2.48) and in
    // 3.85 (0.61) at 19 %; in 15.55 (1.02) at 7 %.
    let rate19 = &order.totals.taxes[0];
    assert_eq!(rate19.gross.amount(), dec!(19.40));
    assert_eq!(rate19.tax.amount(), dec!(3.09));
    assert_eq!(order.totals.taxes[1].tax.amount(), dec!(1.02));
    assert_eq!(
        order.history.last().unwrap().action,
        HistoryAction::Adjusted
    );
    let names: Vec<_> = decision.events.iter().map(EventPayload::name).collect();
    assert_eq!(names, ["OrderAdjusted"]);
    // The order is read back with the same shares.
    let text = serde_json::to_string(&order).unwrap();
    assert_eq!(crate::stored::order_from_json(&text).unwrap(), order);
}

#[test]
fn adjustments_never_take_the_total_below_zero() {
    let mut order = mixed_rates();
    let before = order.clone();
    for (amount, reason, error) in [
        (
            dec!(-44.96),
            "too much",
            OrderError::BelowZero {
                total: eur(dec!(-0.01)),
            },
        ),
        (dec!(0), "zero", OrderError::BadAdjustment),
        (dec!(-0.001), "fraction", OrderError::BadAdjustment),
        (dec!(-1), "  ", OrderError::ReasonMissing),
    ] {
        assert_eq!(
            run(&mut order, adjust(amount, reason), &staff(), 0),
            Err(error)
        );
    }
    assert_eq!(order, before);
    // All of it is fine: the order then charges nothing.
    run(&mut order, adjust(dec!(-44.95), "all on us"), &staff(), 0).unwrap();
    assert!(order.totals.total.is_zero());
    // A line whose share is then removed would move its share to the rest,
    // which charge too little to carry it: refused.
    assert!(matches!(
        run(&mut order, remove(1), &staff(), 5),
        Err(OrderError::BelowZero { .. })
    ));
}

#[test]
fn a_removed_line_hands_its_adjustment_share_to_the_rest() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(&mut order, adjust(dec!(-3.00), "sorry"), &staff(), 0).unwrap();
    assert_eq!(order.totals.total.amount(), dec!(31.95));
    run(&mut order, remove(3), &staff(), 5).unwrap();
    // The adjustment stays whole: 2 × 10.00 + 4.95 − 3.00.
    assert_eq!(order.totals.total.amount(), dec!(21.95));
    let shares: Decimal = order
        .lines
        .iter()
        .map(|l| l.adjustment.amount())
        .sum::<Decimal>()
        + order.shipping.adjustment.amount();
    assert_eq!(shares, dec!(-3.00));
}

fn address(name: &str, city: &str) -> crate::order::Address {
    crate::order::Address {
        name: TextLine::parse(name).unwrap(),
        street: TextLine::parse("Ring 2").unwrap(),
        postal_code: TextLine::parse("80331").unwrap(),
        city: TextLine::parse(city).unwrap(),
        country: crate::types::CountryCode::parse("DE").unwrap(),
    }
}

#[test]
fn a_new_shipping_address_is_for_parcels_not_yet_gone() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    let old = order.shipping_address.clone();
    run(
        &mut order,
        pack(&[(1, 1)], Carrier::Other, None),
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
    run(
        &mut order,
        pack(&[(2, 1)], Carrier::Other, None),
        &staff(),
        5,
    )
    .unwrap();
    let decision = run(
        &mut order,
        OrderCommand::ChangeAddresses {
            shipping_address: Some(address("Anna Beispiel", "München")),
            billing_address: None,
            notify_customer: true,
        },
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.shipping_address.city.as_str(), "München");
    assert_eq!(
        order.shipments[0].ship_to.as_ref(),
        Some(&old),
        "it left for Berlin"
    );
    assert_eq!(order.shipments[1].ship_to, None, "it goes to München");
    assert_eq!(order.billing_address, old, "billing stays");
    let history = &order.history.last().unwrap().detail;
    assert!(
        history.contains("Berlin") && history.contains("München"),
        "{history}"
    );
    assert_eq!(
        decision.effects,
        [Effect::RenameOrder {
            removed_words: vec![],
            added_words: vec!["beispiel".into()],
        }],
        "billing still says Muster"
    );
    let names: Vec<_> = decision.events.iter().map(EventPayload::name).collect();
    assert_eq!(names, ["OrderAddressesChanged", "OrderChangeAnnounced"]);
    assert_eq!(
        run(
            &mut order,
            OrderCommand::ChangeAddresses {
                shipping_address: Some(address("Anna Beispiel", "München")),
                billing_address: None,
                notify_customer: false,
            },
            &staff(),
            0,
        ),
        Err(OrderError::NothingToChange)
    );
}

#[test]
fn the_customer_is_told_only_when_staff_ask() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    let quiet = run(&mut order, adjust(dec!(-5), "quiet"), &staff(), 0).unwrap();
    assert!(quiet
        .events
        .iter()
        .all(|e| e.name() != "OrderChangeAnnounced"));
    let told = run(
        &mut order,
        OrderCommand::RemoveLine {
            line_id: line(2),
            notify_customer: true,
        },
        &staff(),
        5,
    )
    .unwrap();
    let Some(EventPayload::OrderChangeAnnounced(notice)) = told.events.last() else {
        panic!("{:?}", told.events)
    };
    assert_eq!(
        notice.changes,
        [crate::events::ChangeItem::ItemRemoved {
            name: "Product B".into(),
            quantity: 1
        }]
    );
    assert_eq!(notice.total, dec!(19.95));
    assert_eq!(notice.amount_due, dec!(19.95));
}

#[test]
fn a_closed_order_is_not_edited() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(
        &mut order,
        OrderCommand::Cancel { reason: None },
        &staff(),
        5,
    )
    .unwrap();
    for command in [
        change(1, Some(2), None),
        remove(1),
        adjust(dec!(-1), "x"),
        add_line("A", 1, None),
    ] {
        assert!(matches!(
            run(&mut order, command, &staff(), 5),
            Err(OrderError::Closed { .. })
        ));
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Add(u32, u32, bool, u32),
    Change(usize, Option<u32>, Option<u32>, u32),
    Remove(usize, u32),
    Adjust(i64),
    Pay(u32),
    Pack(usize, u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (1u32..=4, 0u32..=5000, any::<bool>(), 0u32..4)
            .prop_map(|(q, cents, reduced, stock)| Edit::Add(q, cents, reduced, stock)),
        (
            1usize..=6,
            proptest::option::of(1u32..=6),
            proptest::option::of(0u32..=5000),
            0u32..4
        )
            .prop_map(|(l, q, p, stock)| Edit::Change(l, q, p, stock)),
        (1usize..=6, 0u32..4).prop_map(|(l, stock)| Edit::Remove(l, stock)),
        (-6000i64..=2000).prop_map(Edit::Adjust),
        (1u32..=60).prop_map(Edit::Pay),
        (1usize..=6, 1u32..=2).prop_map(|(l, q)| Edit::Pack(l, q)),
    ]
}

proptest! {
    /// After any sequence of adds, changes, removals, adjustments, payments
    /// and packing: the totals are the sum of their parts to the cent, the
    /// taxes per rate add up, nothing charges below zero, the adjustments'
    /// shares add up to the adjustments, and the stock taken is the units
    /// added less the units removed.
    #[test]
    fn edited_orders_always_add_up(
        quantities in proptest::array::uniform3(1u32..=3),
        edits in proptest::collection::vec(edit(), 1..20),
    ) {
        let mut order = order(quantities, 10, PaymentMethod::Invoice);
        let held = |order: &Order| -> i64 {
            order.lines.iter().map(|l| i64::from(l.quantity.get() - l.backordered)).sum()
        };
        let mut taken = 0i64;
        let start = held(&order);
        let now = datetime!(2026-11-29 10:00 UTC);
        for edit in edits {
            let before = order.clone();
            let result = match &edit {
                Edit::Add(quantity, cents, reduced, stock) => {
                    let mut p = product("X", "12.34", *stock, true);
                    if *reduced {
                        p.tax_class = TaxClass::Reduced;
                    }
                    let price = Decimal::new(i64::from(*cents), 2).to_string();
                    run_with(&mut order, add_line("X", *quantity, Some(&price)), &staff(), &[p], now)
                }
                Edit::Change(l, quantity, cents, stock) => run(
                    &mut order,
                    change(*l, *quantity, cents.map(|c| Decimal::new(i64::from(c), 2))),
                    &staff(),
                    *stock,
                ),
                Edit::Remove(l, stock) => run(&mut order, remove(*l), &staff(), *stock),
                Edit::Adjust(cents) => run(&mut order, adjust(Decimal::new(*cents, 2), "goodwill"), &staff(), 0),
                Edit::Pay(euros) => run(&mut order, pay(Decimal::from(*euros)), &staff(), 0),
                Edit::Pack(l, q) => run(&mut order, pack(&[(*l, *q)], Carrier::Other, None), &staff(), 10),
            };
            match result {
                Err(_) => prop_assert_eq!(&order, &before, "a refused edit changes nothing"),
                Ok(decision) => {
                    if !matches!(edit, Edit::Pack(..)) {
                        taken += stock_moves(&decision);
                    }
                }
            }
            let totals = &order.totals;
            let lines: Decimal = order.lines.iter().map(|l| l.charged().amount()).sum();
            prop_assert_eq!(totals.total.amount(), lines + order.shipping.charged().amount());
            prop_assert_eq!(
                totals.total.amount(),
                totals.subtotal.amount() + totals.shipping.amount() + totals.adjustments.amount()
            );
            let granted: Decimal = order.adjustments.iter().map(|a| a.amount.amount()).sum();
            prop_assert_eq!(totals.adjustments.amount(), granted);
            for adjustment in &order.adjustments {
                let parts: Decimal = adjustment.by_rate.iter().map(|p| p.amount.amount()).sum();
                prop_assert_eq!(parts, adjustment.amount.amount());
            }
            let by_rate: Decimal = totals.taxes.iter().map(|t| t.tax.amount()).sum();
            prop_assert_eq!(totals.tax.amount(), by_rate);
            let part_taxes: Decimal = order.lines.iter().map(|l| l.tax.amount()).sum::<Decimal>()
                + order.shipping.tax.amount();
            prop_assert_eq!(by_rate, part_taxes);
            for row in &totals.taxes {
                prop_assert_eq!(row.net.amount() + row.tax.amount(), row.gross.amount());
            }
            let gross: Decimal = totals.taxes.iter().map(|t| t.gross.amount()).sum();
            prop_assert_eq!(gross, totals.total.amount());
            prop_assert!(!totals.total.is_negative());
            prop_assert!(!order.shipping.charged().is_negative());
            for line in &order.lines {
                prop_assert!(!line.charged().is_negative());
                prop_assert!(line.charged().is_in_minor_units());
                prop_assert!(line.backordered <= line.quantity.get());
            }
            // Packing takes backordered units itself; until a parcel is
            // packed, what the lines hold from stock is what the edits took.
            if order.shipments.is_empty() {
                prop_assert_eq!(held(&order) - start, taken);
            }
        }
    }
}
