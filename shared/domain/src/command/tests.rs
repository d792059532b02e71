//! Commands decided and applied: parcels, carriers' messages, cancelling,
//! payments, completion and expiry, and a property test over any sequence.

use super::*;
use crate::access::AccessTokenHash;
use crate::order::{place_order, Address, CartLine, CheckoutDetails, Language, NewOrderContext};
use crate::pricing::fixtures::settings;
use crate::product::fixtures::product;
use crate::types::{CountryCode, Email, EventId, OrderId, OrderNumber, Quantity, TextLine};
use proptest::prelude::*;
use rust_decimal_macros::dec;
use time::macros::{date, datetime};

/// An order of three products at 10.00 with `stock` units each in stock
/// and backorders allowed, for `quantities` units each.
pub fn order(quantities: [u32; 3], stock: u32, method: PaymentMethod) -> Order {
    let skus = ["A", "B", "C"];
    let catalog: Vec<_> = skus
        .iter()
        .map(|s| product(s, "10.00", stock, true))
        .collect();
    let details = CheckoutDetails {
        lines: skus
            .iter()
            .zip(quantities)
            .map(|(sku, n)| CartLine {
                sku: Sku::parse(sku).unwrap(),
                quantity: Quantity::new(n).unwrap(),
                unit_price: None,
            })
            .collect(),
        email: Email::parse("anna@example.de").unwrap(),
        shipping_address: Address {
            name: TextLine::parse("Anna Muster").unwrap(),
            street: TextLine::parse("Hauptstr. 1").unwrap(),
            postal_code: TextLine::parse("10115").unwrap(),
            city: TextLine::parse("Berlin").unwrap(),
            country: CountryCode::parse("DE").unwrap(),
        },
        billing_address: None,
        payment_method: method,
        language: Language::De,
        send_confirmation: true,
        coupon: None,
    };
    let context = NewOrderContext {
        id: OrderId::parse("o1").unwrap(),
        number: OrderNumber::parse("K-TEST-0001").unwrap(),
        now: datetime!(2026-11-28 10:00 UTC),
        customer_id: None,
        access_token_hash: Some(AccessTokenHash::of("secret")),
        taken_by: None,
        customer: crate::rules::CustomerFacts::default(),
        promotions: None,
    };
    let mut n = 0;
    place_order(&details, &catalog, context, &settings(), &mut || {
        n += 1;
        EventId::parse(&format!("e{n}")).unwrap()
    })
    .unwrap()
    .order
}

pub fn staff() -> Actor {
    Actor::Staff {
        email: "lena@kontor.example".into(),
    }
}

/// Decides and, if allowed, applies a command as `actor` with `stock`
/// units of every product on the shelf.
pub fn run(
    order: &mut Order,
    command: OrderCommand,
    actor: &Actor,
    stock: u32,
) -> Result<Decision, OrderError> {
    let now = datetime!(2026-11-29 10:00 UTC);
    let products: Vec<_> = command
        .stock_skus(order)
        .iter()
        .map(|sku| product(sku.as_str(), "10.00", stock, true))
        .collect();
    run_with(order, command, actor, &products, now)
}

/// Decides and applies `command` with these products on the shelf.
pub fn run_with(
    order: &mut Order,
    command: OrderCommand,
    actor: &Actor,
    products: &[crate::product::Product],
    now: time::OffsetDateTime,
) -> Result<Decision, OrderError> {
    let policy = crate::returns::ReturnPolicy::default();
    let context = CommandContext {
        now,
        actor,
        products,
        tax_rates: settings().tax_rates,
        return_policy: &policy,
        credit_notes_issued: 0,
    };
    let decision = order.decide(&command, &context)?;
    order.apply(&decision, now, actor);
    Ok(decision)
}

pub fn line(n: usize) -> LineId {
    LineId::parse(&format!("L{n}")).unwrap()
}

pub fn pack(items: &[(usize, u32)], carrier: Carrier, number: Option<&str>) -> OrderCommand {
    OrderCommand::PackShipment(NewShipment {
        items: items
            .iter()
            .map(|(l, q)| (line(*l), Quantity::new(*q).unwrap()))
            .collect(),
        carrier,
        tracking_number: number.map(|n| TrackingNumber::parse(n).unwrap()),
    })
}

pub fn move_to(shipment: &str, status: ShipmentStatus) -> OrderCommand {
    OrderCommand::MoveShipment {
        shipment_id: shipment.into(),
        status,
        tracking_number: None,
        location: None,
        notify: true,
    }
}

#[test]
fn a_split_delivery_ships_in_two_parcels() {
    // B was out of stock at checkout: 1 of its 2 units backordered.
    let mut order = order([1, 2, 1], 1, PaymentMethod::Invoice);
    assert_eq!(order.lines[1].backordered, 1);
    let first = run(
        &mut order,
        pack(
            &[(1, 1), (2, 1), (3, 1)],
            Carrier::Dhl,
            Some("00340434161094042557"),
        ),
        &staff(),
        0,
    )
    .unwrap();
    assert!(
        !first
            .effects
            .iter()
            .any(|e| matches!(e, Effect::TakeStock(_))),
        "reserved units only"
    );
    assert!(first.effects.contains(&Effect::ClaimTracking {
        number: TrackingNumber::parse("00340434161094042557").unwrap(),
        shipment_id: "S1".into()
    }));
    assert_eq!(order.version, 2);
    assert_eq!(
        order.history.last().unwrap().action,
        HistoryAction::ShipmentPacked
    );
    assert_eq!(order.history.last().unwrap().actor, staff());
    let second = pack(&[(2, 1)], Carrier::Dpd, Some("01234567890123"));
    let before = order.clone();
    assert_eq!(
        run(&mut order, second.clone(), &staff(), 0),
        Err(OrderError::Shipment(ShipmentError::NotInStock {
            index: 0,
            sku: Sku::parse("B").unwrap(),
            available: 0
        })),
        "the backordered unit waits for stock"
    );
    assert_eq!(order, before, "a refused command changes nothing");
    let packed = run(&mut order, second, &staff(), 4).unwrap();
    assert!(packed.effects.contains(&Effect::TakeStock(StockTake {
        sku: Sku::parse("B").unwrap(),
        quantity: 1
    })));
    assert_eq!(order.lines[1].backordered, 0, "released");
    assert_eq!(order.shipping_status, ShippingStatus::NotShipped);
    run(
        &mut order,
        move_to("S1", ShipmentStatus::Shipped),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.shipping_status, ShippingStatus::PartiallyShipped);
    run(
        &mut order,
        move_to("S2", ShipmentStatus::Shipped),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.shipping_status, ShippingStatus::Shipped);
    run(
        &mut order,
        move_to("S1", ShipmentStatus::Delivered),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.shipping_status, ShippingStatus::PartiallyDelivered);
    run(
        &mut order,
        move_to("S2", ShipmentStatus::Delivered),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.shipping_status, ShippingStatus::Delivered);
    assert_eq!(
        order.status,
        OrderStatus::Open,
        "an invoice order waits for its payment"
    );
    assert!(matches!(
        run(&mut order, pack(&[(1, 1)], Carrier::Dhl, None), &staff(), 9),
        Err(OrderError::Shipment(ShipmentError::MoreThanRemains {
            remaining: 0,
            ..
        }))
    ));
    // Paying the invoice completes the delivered order by itself.
    let total = order.totals.total;
    run(
        &mut order,
        OrderCommand::RecordPayment {
            amount: total,
            date: date!(2026 - 11 - 29),
            reference: "bank 42".into(),
        },
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(
        run(
            &mut order,
            move_to("S1", ShipmentStatus::Delivered),
            &staff(),
            0
        ),
        Err(OrderError::Closed {
            status: OrderStatus::Completed
        })
    );
}

#[test]
fn parcels_on_their_way_need_a_tracking_number_and_a_new_number_releases_the_old() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(&mut order, pack(&[(1, 1)], Carrier::Ups, None), &staff(), 0).unwrap();
    let before = order.clone();
    assert_eq!(
        run(
            &mut order,
            move_to("S1", ShipmentStatus::Shipped),
            &staff(),
            0
        ),
        Err(OrderError::Shipment(ShipmentError::NoTrackingNumber(
            ShipmentStatus::Shipped
        )))
    );
    assert_eq!(order, before, "nothing changed");
    let number = TrackingNumber::parse("1Z999AA10123456784").unwrap();
    let with_number = |n: &TrackingNumber, status| OrderCommand::MoveShipment {
        shipment_id: "S1".into(),
        status,
        tracking_number: Some(n.clone()),
        location: Some("  Köln ".into()),
        notify: false,
    };
    let decision = run(
        &mut order,
        with_number(&number, ShipmentStatus::Shipped),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(
        decision.effects,
        [Effect::ClaimTracking {
            number: number.clone(),
            shipment_id: "S1".into()
        }]
    );
    assert_eq!(
        order.shipment("S1").unwrap().tracking_number,
        Some(number.clone())
    );
    assert_eq!(
        order.shipment("S1").unwrap().history[1].location.as_deref(),
        Some("Köln")
    );
    // A mistyped number is refused with the reason, and nothing changes.
    let before = order.clone();
    let mistyped = TrackingNumber::parse("1Z999AA10123456785").unwrap();
    assert!(matches!(
        run(
            &mut order,
            with_number(&mistyped, ShipmentStatus::InTransit),
            &staff(),
            0
        ),
        Err(OrderError::Shipment(ShipmentError::BadTrackingNumber(
            crate::carrier::NumberError::CheckDigit { expected: '4', .. }
        )))
    ));
    assert_eq!(order, before);
    let corrected = TrackingNumber::parse("1Z5R89390357567127").unwrap();
    let decision = run(
        &mut order,
        with_number(&corrected, ShipmentStatus::InTransit),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(
        decision.effects,
        [
            Effect::ClaimTracking {
                number: corrected,
                shipment_id: "S1".into()
            },
            Effect::ReleaseTracking { number }
        ],
        "the old number stops pointing at the parcel"
    );
}

fn carrier_message(event_id: &str, status: ShipmentStatus) -> OrderCommand {
    OrderCommand::ApplyCarrierMessage(CarrierUpdate {
        shipment_id: "S1".into(),
        source: MessageSource::Carrier(Carrier::Dhl),
        event_id: event_id.into(),
        status: Some(status),
        reported: None,
        occurred_at: datetime!(2026-11-29 08:00 UTC),
        location: None,
    })
}

#[test]
fn carrier_messages_apply_once_and_never_backwards() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::CashOnDelivery);
    run(
        &mut order,
        pack(
            &[(1, 1), (2, 1), (3, 1)],
            Carrier::Dhl,
            Some("00340434161094042557"),
        ),
        &staff(),
        0,
    )
    .unwrap();
    let dhl = Actor::Carrier {
        carrier: Carrier::Dhl,
    };
    run(
        &mut order,
        carrier_message("m1", ShipmentStatus::InTransit),
        &dhl,
        0,
    )
    .unwrap();
    assert_eq!(
        run(
            &mut order,
            carrier_message("m1", ShipmentStatus::InTransit),
            &dhl,
            0
        ),
        Err(OrderError::DuplicateCarrierMessage)
    );
    // Cash on delivery: the delivery collects the money and completes
    // the order, in the same decision.
    let delivered = run(
        &mut order,
        carrier_message("m2", ShipmentStatus::Delivered),
        &dhl,
        0,
    )
    .unwrap();
    let names: Vec<_> = delivered.events.iter().map(EventPayload::name).collect();
    assert_eq!(
        names,
        ["ShipmentStatusChanged", "PaymentRecorded", "OrderCompleted"]
    );
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(
        order.paid().amount(),
        dec!(34.95),
        "30.00 and 4.95 shipping"
    );
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(
        run(
            &mut order,
            carrier_message("m3", ShipmentStatus::InTransit),
            &dhl,
            0
        ),
        Err(OrderError::Closed {
            status: OrderStatus::Completed
        })
    );
    let mut other = self::order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(
        &mut other,
        pack(&[(1, 1)], Carrier::Dhl, Some("00340434161094042557")),
        &staff(),
        0,
    )
    .unwrap();
    run(
        &mut other,
        carrier_message("m1", ShipmentStatus::Delivered),
        &dhl,
        0,
    )
    .unwrap();
    assert_eq!(
        run(
            &mut other,
            carrier_message("m0", ShipmentStatus::InTransit),
            &dhl,
            0
        ),
        Err(OrderError::LateCarrierMessage {
            from: ShipmentStatus::Delivered,
            to: ShipmentStatus::InTransit
        })
    );
    let mut wrong = carrier_message("m9", ShipmentStatus::Delivered);
    if let OrderCommand::ApplyCarrierMessage(update) = &mut wrong {
        update.source = MessageSource::Carrier(Carrier::Ups);
    }
    assert_eq!(
        run(&mut other, wrong, &dhl, 0),
        Err(OrderError::WrongCarrier)
    );
}

/// News with no status of ours (a customs hold, a carrier's code missing
/// from its table) is kept in the parcel's history for staff, moves
/// nothing, e-mails nobody, and counts once; a tracking service speaks
/// for whichever carrier took the parcel.
#[test]
fn news_without_a_status_is_kept_and_moves_nothing() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::CashOnDelivery);
    run(
        &mut order,
        pack(&[(1, 1)], Carrier::Dhl, Some("00340434161094042557")),
        &staff(),
        0,
    )
    .unwrap();
    let service = Actor::TrackingService {
        service: TrackingService::AfterShip,
    };
    let news = |event_id: &str, status, words: &str| {
        OrderCommand::ApplyCarrierMessage(CarrierUpdate {
            shipment_id: "S1".into(),
            source: MessageSource::Service(TrackingService::AfterShip),
            event_id: event_id.into(),
            status,
            reported: Some(words.into()),
            occurred_at: datetime!(2026-11-29 09:00 UTC),
            location: Some("Leipzig\u{7}".into()),
        })
    };
    let held = news(
        "aftership:e1",
        None,
        "Exception_004: Delayed (Customs clearance)",
    );
    let decision = run(&mut order, held.clone(), &service, 0).unwrap();
    assert!(decision.events.is_empty(), "nobody is e-mailed");
    let parcel = order.shipment("S1").unwrap();
    assert_eq!(parcel.status, ShipmentStatus::Pending);
    let step = parcel.history.last().unwrap();
    assert_eq!(step.status, ShipmentStatus::Pending);
    assert_eq!(
        step.reported.as_deref(),
        Some("Exception_004: Delayed (Customs clearance)")
    );
    assert_eq!(
        step.location.as_deref(),
        Some("Leipzig"),
        "no control characters"
    );
    assert_eq!(step.actor, service);
    assert_eq!(
        order.history.last().unwrap().action,
        HistoryAction::ParcelReported
    );
    assert_eq!(
        run(&mut order, held, &service, 0),
        Err(OrderError::DuplicateCarrierMessage)
    );
    // A service's news applies to the parcel whatever its carrier.
    run(
        &mut order,
        news("aftership:e2", Some(ShipmentStatus::InTransit), "InTransit"),
        &service,
        0,
    )
    .unwrap();
    assert_eq!(
        order.shipment("S1").unwrap().status,
        ShipmentStatus::InTransit
    );
    // The sender's words are bounded like every stored text.
    run(
        &mut order,
        news("aftership:e3", None, &"x".repeat(10_000)),
        &service,
        0,
    )
    .unwrap();
    let kept = order
        .shipment("S1")
        .unwrap()
        .history
        .last()
        .unwrap()
        .reported
        .clone();
    assert_eq!(kept.map(|w| w.chars().count()), Some(200));
}

/// An order goes out in a bounded number of parcels, so that cancelling
/// it (a tracking release per parcel) fits one transaction.
#[test]
fn an_order_goes_out_in_a_bounded_number_of_parcels() {
    let mut order = self::order([30, 1, 1], 50, PaymentMethod::Invoice);
    for _ in 0..crate::shipment::MAX_PARCELS_PER_ORDER {
        run(
            &mut order,
            pack(&[(1, 1)], Carrier::Other, None),
            &staff(),
            0,
        )
        .unwrap();
    }
    assert_eq!(
        run(
            &mut order,
            pack(&[(1, 1)], Carrier::Other, None),
            &staff(),
            0
        ),
        Err(OrderError::Shipment(ShipmentError::TooManyParcels))
    );
}

/// "Out for delivery" and "failed attempt" may alternate, but not for
/// ever: the parcel's history stops at its bound, for carriers and staff.
#[test]
fn a_parcel_history_is_bounded_however_often_delivery_fails() {
    let mut order = self::order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(
        &mut order,
        pack(&[(1, 1)], Carrier::Dhl, Some("00340434161094042557")),
        &staff(),
        0,
    )
    .unwrap();
    let dhl = Actor::Carrier {
        carrier: Carrier::Dhl,
    };
    let mut refused = None;
    for attempt in 0..100 {
        let status = if attempt % 2 == 0 {
            ShipmentStatus::OutForDelivery
        } else {
            ShipmentStatus::FailedAttempt
        };
        if let Err(error) = run(
            &mut order,
            carrier_message(&format!("m{attempt}"), status),
            &dhl,
            0,
        ) {
            refused = Some((attempt, error));
            break;
        }
    }
    let (attempt, error) = refused.expect("the history stops growing");
    assert_eq!(error, OrderError::Shipment(ShipmentError::TooManySteps));
    let parcel = order.shipment("S1").unwrap();
    assert_eq!(parcel.history.len(), crate::shipment::MAX_PARCEL_STEPS);
    assert_eq!(
        attempt + 1,
        crate::shipment::MAX_PARCEL_STEPS,
        "one step was packing"
    );
    // Staff cannot add one either; the parcel can still be looked at.
    let last = parcel.status;
    let next = if last == ShipmentStatus::OutForDelivery {
        ShipmentStatus::FailedAttempt
    } else {
        ShipmentStatus::OutForDelivery
    };
    assert!(matches!(
        run(
            &mut order,
            OrderCommand::MoveShipment {
                shipment_id: "S1".into(),
                status: next,
                location: None,
                tracking_number: None,
                notify: false,
            },
            &staff(),
            0
        ),
        Err(OrderError::Shipment(ShipmentError::TooManySteps))
    ));
}

#[test]
fn cancelling_returns_every_unit_taken_and_unpacks_pending_parcels() {
    // 2 of B backordered (stock 1); a parcel takes one of them from new stock.
    let mut order = order([1, 3, 1], 1, PaymentMethod::Invoice);
    run(
        &mut order,
        pack(&[(2, 2)], Carrier::Dhl, Some("00340434161094042557")),
        &staff(),
        5,
    )
    .unwrap();
    assert_eq!(order.lines[1].backordered, 1);
    let guest = Actor::Guest;
    let before = order.clone();
    assert_eq!(
        run(&mut order, OrderCommand::Cancel { reason: None }, &guest, 0),
        Err(OrderError::AlreadyPacked),
        "shoppers cancel only before packing"
    );
    assert_eq!(order, before);
    let decision = run(
        &mut order,
        OrderCommand::Cancel {
            reason: Some("customer called".into()),
        },
        &staff(),
        7,
    )
    .unwrap();
    assert_eq!(
        decision.effects,
        [
            Effect::ReleaseTracking {
                number: TrackingNumber::parse("00340434161094042557").unwrap()
            },
            Effect::ReturnStock(StockTake {
                sku: Sku::parse("A").unwrap(),
                quantity: 1
            }),
            Effect::ReturnStock(StockTake {
                sku: Sku::parse("B").unwrap(),
                quantity: 2
            }),
            Effect::ReturnStock(StockTake {
                sku: Sku::parse("C").unwrap(),
                quantity: 1
            }),
        ],
        "A and C from checkout, B: one from checkout, one the parcel took"
    );
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(order.shipments.is_empty());
    let EventPayload::OrderCancelled(cancelled) = &decision.events[0] else {
        panic!("{:?}", decision.events[0]);
    };
    assert_eq!(cancelled.cancelled_by, CancelledBy::Staff);
    let EventPayload::StockChanged(b) = &decision.events[2] else {
        panic!()
    };
    assert_eq!((b.change, b.stock), (2, 9));
    assert_eq!(
        run(
            &mut order,
            OrderCommand::Cancel { reason: None },
            &staff(),
            0
        ),
        Err(OrderError::Closed {
            status: OrderStatus::Cancelled
        })
    );
}

#[test]
fn a_shipped_order_is_not_cancelled() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(
        &mut order,
        pack(&[(1, 1)], Carrier::Other, None),
        &staff(),
        0,
    )
    .unwrap();
    run(
        &mut order,
        move_to("S1", ShipmentStatus::Shipped),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(
        run(
            &mut order,
            OrderCommand::Cancel { reason: None },
            &staff(),
            0
        ),
        Err(OrderError::AlreadyShipped)
    );
}

pub fn pay(amount: rust_decimal::Decimal) -> OrderCommand {
    OrderCommand::RecordPayment {
        amount: Money::new(amount, crate::money::Currency::Eur),
        date: date!(2026 - 11 - 29),
        reference: "bank".into(),
    }
}

#[test]
fn payments_add_up_to_the_total_and_never_beyond() {
    // 3 × 10.00 + 4.95 shipping = 34.95.
    let mut order = order([1, 1, 1], 5, PaymentMethod::Prepayment);
    for bad in [dec!(0), dec!(-1), dec!(0.001)] {
        assert_eq!(
            run(&mut order, pay(bad), &staff(), 0),
            Err(OrderError::PaymentNotPositive),
            "{bad}"
        );
    }
    assert!(matches!(
        run(&mut order, pay(dec!(34.96)), &staff(), 0),
        Err(OrderError::Overpayment { .. })
    ));
    run(&mut order, pay(dec!(20)), &staff(), 0).unwrap();
    assert_eq!(order.payment_status, PaymentStatus::PartiallyPaid);
    assert_eq!(order.amount_due().amount(), dec!(14.95));
    let decision = run(&mut order, pay(dec!(14.95)), &staff(), 0).unwrap();
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(order.status, OrderStatus::Open, "paid, not delivered");
    let EventPayload::PaymentRecorded(recorded) = &decision.events[0] else {
        panic!()
    };
    assert_eq!((recorded.paid, recorded.due), (dec!(34.95), dec!(0.00)));
    assert_eq!(
        run(&mut order, pay(dec!(1)), &staff(), 0),
        Err(OrderError::NothingDue)
    );
    let other_currency = OrderCommand::RecordPayment {
        amount: Money::new(dec!(1), crate::money::Currency::Chf),
        date: date!(2026 - 11 - 29),
        reference: "bank".into(),
    };
    let mut fresh = self::order([1, 1, 1], 5, PaymentMethod::Prepayment);
    assert_eq!(
        run(&mut fresh, other_currency, &staff(), 0),
        Err(OrderError::PaymentCurrency)
    );
}

#[test]
fn completing_needs_delivery_and_payment_or_a_purpose() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    assert_eq!(
        run(
            &mut order,
            OrderCommand::Complete {
                even_if_open: false
            },
            &staff(),
            0
        ),
        Err(OrderError::NotFinished {
            shipping_status: ShippingStatus::NotShipped,
            payment_status: PaymentStatus::Pending
        })
    );
    let decision = run(
        &mut order,
        OrderCommand::Complete { even_if_open: true },
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(
        decision.events,
        [EventPayload::OrderCompleted(OrderCompleted {
            number: order.number.clone(),
            by_staff_override: true
        })]
    );
}

#[test]
fn unpaid_prepayment_orders_expire_after_their_deadline() {
    // Placed 2026-11-28 10:00; `run` decides at 2026-11-29 10:00.
    let system = Actor::System {
        reason: "unpaid".into(),
    };
    let mut order = order([1, 1, 1], 5, PaymentMethod::Prepayment);
    assert_eq!(
        run(
            &mut order,
            OrderCommand::ExpireUnpaid { after_days: 2 },
            &system,
            0
        ),
        Err(OrderError::NotExpired),
        "one day old"
    );
    let decision = run(
        &mut order,
        OrderCommand::ExpireUnpaid { after_days: 1 },
        &system,
        0,
    )
    .unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    let EventPayload::OrderCancelled(cancelled) = &decision.events[0] else {
        panic!()
    };
    assert_eq!(cancelled.cancelled_by, CancelledBy::Expiry);
    assert_eq!(order.history.last().unwrap().actor, system);
    for method in [PaymentMethod::Invoice, PaymentMethod::CashOnDelivery] {
        let mut other = self::order([1, 1, 1], 5, method);
        assert_eq!(
            run(
                &mut other,
                OrderCommand::ExpireUnpaid { after_days: 1 },
                &system,
                0
            ),
            Err(OrderError::NotExpired)
        );
    }
    let mut paid_part = self::order([1, 1, 1], 5, PaymentMethod::Prepayment);
    run(&mut paid_part, pay(dec!(1)), &staff(), 0).unwrap();
    assert_eq!(
        run(
            &mut paid_part,
            OrderCommand::ExpireUnpaid { after_days: 1 },
            &system,
            0
        ),
        Err(OrderError::NotExpired),
        "a part payment shows intent"
    );
}

fn status() -> impl Strategy<Value = ShipmentStatus> {
    proptest::sample::select(ShipmentStatus::ALL.to_vec())
}

#[derive(Debug, Clone)]
enum Op {
    Pack(Vec<(usize, u32)>, u32),
    Move(usize, ShipmentStatus),
    Pay(u32),
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            proptest::collection::vec((1usize..=4, 1u32..=4), 1..4),
            0u32..4
        )
            .prop_map(|(items, stock)| Op::Pack(items, stock)),
        4 => (1usize..=6, status()).prop_map(|(n, s)| Op::Move(n, s)),
        1 => (1u32..=40).prop_map(Op::Pay),
        1 => Just(Op::Cancel),
    ]
}

/// The shipping status as the issue defines it, counted by hand from
/// the parcels: not the code that sets it.
fn expected_shipping_status(order: &Order) -> ShippingStatus {
    let mut ordered = 0;
    let mut delivered = 0;
    let mut left = 0;
    for line in &order.lines {
        ordered += line.quantity.get();
    }
    for shipment in &order.shipments {
        let units: u32 = shipment.items.iter().map(|i| i.quantity.get()).sum();
        match shipment.status {
            ShipmentStatus::Delivered => {
                delivered += units;
                left += units;
            }
            ShipmentStatus::Shipped
            | ShipmentStatus::InTransit
            | ShipmentStatus::OutForDelivery
            | ShipmentStatus::FailedAttempt => left += units,
            ShipmentStatus::Pending | ShipmentStatus::ReturnedToSender => {}
        }
    }
    match (delivered, left) {
        (d, _) if d == ordered => ShippingStatus::Delivered,
        (d, _) if d > 0 => ShippingStatus::PartiallyDelivered,
        (_, l) if l == ordered => ShippingStatus::Shipped,
        (_, l) if l > 0 => ShippingStatus::PartiallyShipped,
        _ => ShippingStatus::NotShipped,
    }
}

proptest! {
    /// Whatever staff do, parcels never hold more than was ordered,
    /// statuses never go back, a refused command changes nothing, every
    /// accepted one bumps the version by one and writes history, and
    /// the statuses are the ones the parcels and payments make.
    #[test]
    fn every_change_goes_through_decide_and_apply(
        quantities in proptest::array::uniform3(1u32..=5),
        stock in 0u32..4,
        ops in proptest::collection::vec(op(), 1..25),
    ) {
        let mut order = order(quantities, stock, PaymentMethod::Invoice);
        for op in ops {
            let before = order.clone();
            let (command, stock) = match &op {
                Op::Pack(items, stock) => (pack(items, Carrier::Dhl, Some("00340434161094042557")), *stock),
                Op::Move(n, status) => (move_to(&format!("S{n}"), *status), 0),
                Op::Pay(euros) => (pay(rust_decimal::Decimal::from(*euros)), 0),
                Op::Cancel => (OrderCommand::Cancel { reason: None }, 0),
            };
            match run(&mut order, command, &staff(), stock) {
                Err(_) => prop_assert_eq!(&order, &before, "a refused change changes nothing"),
                Ok(decision) => {
                    prop_assert_eq!(order.version, before.version + 1);
                    prop_assert_eq!(order.history.len(), before.history.len() + decision.history.len());
                    prop_assert!(!decision.history.is_empty());
                }
            }
            for line in &order.lines {
                prop_assert!(order.units_in_parcels(&line.id) <= line.quantity.get());
                prop_assert!(line.backordered <= line.quantity.get());
            }
            prop_assert_eq!(order.shipping_status, expected_shipping_status(&order));
            let paid: rust_decimal::Decimal = order.payments.iter().map(|p| p.amount.amount()).sum();
            prop_assert!(paid <= order.totals.total.amount());
            let expected_payment = if paid.is_zero() {
                PaymentStatus::Pending
            } else if paid == order.totals.total.amount() {
                PaymentStatus::Paid
            } else {
                PaymentStatus::PartiallyPaid
            };
            prop_assert_eq!(order.payment_status, expected_payment);
            for (old, new) in before.shipments.iter().zip(&order.shipments) {
                prop_assert!(old.status == new.status || old.status.can_become(new.status));
            }
        }
    }
}

#[test]
fn notes_keep_internal_words_out_of_history_and_events() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    let internal = run(
        &mut order,
        OrderCommand::AddNote {
            text: crate::types::NoteText::parse("Kunde rief an: vor Freitag!").unwrap(),
            visible_to_customer: false,
        },
        &staff(),
        0,
    )
    .unwrap();
    let visible = run(
        &mut order,
        OrderCommand::AddNote {
            text: crate::types::NoteText::parse("Your second parcel leaves on Monday.").unwrap(),
            visible_to_customer: true,
        },
        &staff(),
        0,
    )
    .unwrap();
    let ids: Vec<&str> = order.notes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["N1", "N2"]);
    assert_eq!(order.notes[0].author, staff());
    let EventPayload::NoteAdded(event) = &internal.events[0] else {
        panic!()
    };
    assert_eq!(event.text, None, "an internal note's event carries no text");
    let EventPayload::NoteAdded(event) = &visible.events[0] else {
        panic!()
    };
    assert_eq!(
        event.text.as_deref(),
        Some("Your second parcel leaves on Monday.")
    );
    assert!(order.history.iter().all(|h| !h.detail.contains("Freitag")));
    assert_eq!(
        order
            .customer_notes()
            .map(|n| n.id.as_str())
            .collect::<Vec<_>>(),
        ["N2"]
    );
}

#[test]
fn note_texts_are_bounded() {
    use crate::types::NoteText;
    assert!(NoteText::parse("  ").is_err());
    assert!(NoteText::parse(&"x".repeat(5_001)).is_err());
    assert!(NoteText::parse(&"x".repeat(5_000)).is_ok());
    assert!(NoteText::parse("a\u{7}b").is_err());
    assert_eq!(
        NoteText::parse(" line one\nline two ").unwrap().as_str(),
        "line one\nline two"
    );
}

pub fn add_line(sku: &str, quantity: u32, unit_price: Option<&str>) -> OrderCommand {
    OrderCommand::AddLine {
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: unit_price.map(|p| Money::new(p.parse().unwrap(), crate::money::Currency::Eur)),
        reason: Some("good customer".into()),
        notify_customer: false,
    }
}

#[test]
fn a_free_belt_is_a_new_line_taken_from_stock() {
    // 3 × 10.00 + 4.95 shipping, paid in full.
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(&mut order, pay(dec!(34.95)), &staff(), 0).unwrap();
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    let belt = product("A", "24.90", 7, false);
    let now = datetime!(2026-11-29 10:00 UTC);
    let decision = run_with(
        &mut order,
        add_line("A", 1, Some("0")),
        &staff(),
        std::slice::from_ref(&belt),
        now,
    )
    .unwrap();
    let line = order.lines.last().unwrap();
    assert_eq!(line.id.as_str(), "L4", "a new line, never merged into L1");
    assert_eq!(
        (line.unit_price.amount(), line.total.amount()),
        (dec!(0.00), dec!(0.00))
    );
    assert_eq!(line.backordered, 0);
    assert_eq!(
        decision.effects,
        [Effect::TakeStock(StockTake {
            sku: Sku::parse("A").unwrap(),
            quantity: 1
        })]
    );
    assert_eq!(
        order.totals.total.amount(),
        dec!(34.95),
        "a gift costs nothing"
    );
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    let names: Vec<_> = decision.events.iter().map(EventPayload::name).collect();
    assert_eq!(names, ["OrderItemAdded", "StockChanged"]);

    // At the product's price the total and the tax follow, and the paid
    // order now owes the difference.
    run_with(&mut order, add_line("A", 2, None), &staff(), &[belt], now).unwrap();
    let line = order.lines.last().unwrap();
    assert_eq!(line.id.as_str(), "L5");
    assert_eq!(line.total.amount(), dec!(49.80));
    assert_eq!(line.tax.amount(), dec!(7.95), "19 % of 49.80 gross");
    assert_eq!(order.totals.total.amount(), dec!(84.75));
    assert_eq!(order.payment_status, PaymentStatus::PartiallyPaid);
    assert_eq!(order.amount_due().amount(), dec!(49.80));
}

#[test]
fn added_lines_follow_the_stock_rules_and_refuse_bad_prices() {
    let mut order = order([1, 1, 1], 5, PaymentMethod::Invoice);
    let now = datetime!(2026-11-29 10:00 UTC);
    let scarce = product("A", "24.90", 1, false);
    let before = order.clone();
    assert_eq!(
        run_with(&mut order, add_line("A", 2, None), &staff(), &[scarce], now),
        Err(OrderError::OutOfStock {
            sku: Sku::parse("A").unwrap(),
            available: 1
        })
    );
    assert_eq!(
        run_with(&mut order, add_line("GONE", 1, None), &staff(), &[], now),
        Err(OrderError::UnknownSku(Sku::parse("GONE").unwrap()))
    );
    let belt = product("A", "24.90", 5, false);
    for price in ["-1", "0.001"] {
        assert_eq!(
            run_with(
                &mut order,
                add_line("A", 1, Some(price)),
                &staff(),
                std::slice::from_ref(&belt),
                now
            ),
            Err(OrderError::BadUnitPrice),
            "{price}"
        );
    }
    assert_eq!(order, before, "nothing changed");
    // A product taking backorders: the units wait for stock, none is taken.
    let mut late = product("A", "24.90", 0, true);
    late.allow_backorder = true;
    let decision = run_with(&mut order, add_line("A", 2, None), &staff(), &[late], now).unwrap();
    assert!(decision.effects.is_empty());
    assert_eq!(order.lines.last().unwrap().backordered, 2);
    // A delivered order with a new line is partially delivered again.
    let mut delivered = self::order([1, 1, 1], 5, PaymentMethod::Invoice);
    run(
        &mut delivered,
        pack(&[(1, 1), (2, 1), (3, 1)], Carrier::Other, None),
        &staff(),
        0,
    )
    .unwrap();
    run(
        &mut delivered,
        move_to("S1", ShipmentStatus::Delivered),
        &staff(),
        0,
    )
    .unwrap();
    assert_eq!(delivered.shipping_status, ShippingStatus::Delivered);
    run_with(
        &mut delivered,
        add_line("A", 1, Some("0")),
        &staff(),
        &[belt],
        now,
    )
    .unwrap();
    assert_eq!(
        delivered.shipping_status,
        ShippingStatus::PartiallyDelivered
    );
}
