//! Every write to an order fits in one DynamoDB transaction (at most 100
//! items), whatever the order and whatever the change: the largest order a
//! checkout takes (34 products, names at their word limit) is driven
//! through random sequences of every command staff, shoppers and carriers
//! can give, each at sizes up to its bounds, and the items of each
//! accepted change's transaction are counted as the store builds them (no
//! I/O: `DynamoStore::order_write_items`). The worst cases are also built
//! on purpose: 20 tracked parcels cancelled, every line returned, received
//! and refunded, both addresses renamed. The checkout's own worst case
//! (with three discounts and their counters) is placed on moto by
//! `tests/bounds.rs`.

use kontor_domain::command::{OrderCommand, ReturnRequestLine};
use kontor_domain::money::{Currency, Money};
use kontor_domain::order::{Address, Order};
use kontor_domain::returns::{ReceivedLine, ReturnAction};
use kontor_domain::shipment::{Carrier, NewShipment, ShipmentStatus, TrackingNumber};
use kontor_domain::types::{CountryCode, NoteText, Quantity, Sku, TextLine};
use kontor_platform::{CatalogStore, OrderCommit};
use kontor_store_dynamodb::DynamoStore;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::contract::{placement_by, try_commit_of, Shopper};
use kontor_testkit::fixtures::{dhl_number, product};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;

const MAX_ITEMS: usize = 100;

/// A store that only builds transactions: its client is never called.
fn builder() -> DynamoStore {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("eu-central-1"))
        .build();
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "kontor")
}

/// A name of `words` different words, at most 200 characters.
fn long_name(words: usize, salt: char) -> String {
    let letters: Vec<char> = ('a'..='z').collect();
    let name: Vec<String> = (0..words)
        .map(|n| format!("{salt}{}{}", letters[n / 26 % 26], letters[n % 26]))
        .collect();
    name.join(" ").chars().take(200).collect()
}

fn address(name: &str) -> Address {
    Address {
        name: TextLine::parse(name).unwrap(),
        street: TextLine::parse("Hauptstraße 1").unwrap(),
        postal_code: TextLine::parse("10115").unwrap(),
        city: TextLine::parse("Berlin").unwrap(),
        country: CountryCode::parse("DE").unwrap(),
    }
}

fn euros(cents: i64) -> Money {
    Money::new(Decimal::new(cents, 2), Currency::Eur)
}

/// The largest order a checkout takes: every one of the 34 lines it
/// allows, two of each, under a name of 50 words.
async fn largest_order() -> Order {
    let shelf = SqliteStore::in_memory().unwrap();
    for n in 0..40 {
        shelf
            .put_product(&product(&format!("P{n:02}"), "10.00", 50, true), None)
            .await
            .unwrap();
    }
    let skus: Vec<String> = (0..34).map(|n| format!("P{n:02}")).collect();
    let lines: Vec<(&str, u32)> = skus.iter().map(|s| (s.as_str(), 2)).collect();
    let name: &'static str = Box::leak(long_name(50, 'q').into_boxed_str());
    let shopper = Shopper {
        email: "anna@example.de",
        name,
        customer: None,
    };
    placement_by(&shelf, &lines, 1, &shopper).await.order
}

/// One change, drawn at random and aimed at whatever the order has then
/// (its lines, parcels and returns, by position).
#[derive(Debug, Clone)]
enum Step {
    Pack {
        lines: Vec<usize>,
        tracked: bool,
    },
    Move {
        parcel: usize,
        status: usize,
        renumber: bool,
    },
    CarrierNews {
        parcel: usize,
        status: Option<usize>,
    },
    SendTracking {
        parcel: usize,
    },
    Note {
        length: usize,
    },
    AddLine {
        sku: usize,
        quantity: u32,
        gift: bool,
    },
    ChangeLine {
        line: usize,
        quantity: u32,
    },
    RemoveLine {
        line: usize,
    },
    Adjust {
        cents: i64,
    },
    Rename {
        words: usize,
    },
    Pay {
        cents: i64,
    },
    RequestReturn {
        lines: Vec<usize>,
    },
    ReturnMove {
        which: usize,
        kind: usize,
        restock: bool,
    },
    ReceiveBack {
        parcel: usize,
        restock: bool,
    },
    Cancel,
    Complete,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (prop::collection::vec(0usize..40, 1..40), any::<bool>()).prop_map(|(lines, tracked)| Step::Pack { lines, tracked }),
        3 => (0usize..25, 0usize..7, any::<bool>()).prop_map(|(parcel, status, renumber)| Step::Move { parcel, status, renumber }),
        2 => (0usize..25, prop::option::of(0usize..7)).prop_map(|(parcel, status)| Step::CarrierNews { parcel, status }),
        1 => (0usize..25).prop_map(|parcel| Step::SendTracking { parcel }),
        1 => (1usize..5000).prop_map(|length| Step::Note { length }),
        2 => (0usize..40, 1u32..999, any::<bool>()).prop_map(|(sku, quantity, gift)| Step::AddLine { sku, quantity, gift }),
        2 => (0usize..40, 1u32..999).prop_map(|(line, quantity)| Step::ChangeLine { line, quantity }),
        1 => (0usize..40).prop_map(|line| Step::RemoveLine { line }),
        1 => (-100_000i64..100_000).prop_map(|cents| Step::Adjust { cents }),
        1 => (1usize..60).prop_map(|words| Step::Rename { words }),
        1 => (1i64..1_000_000).prop_map(|cents| Step::Pay { cents }),
        2 => prop::collection::vec(0usize..40, 1..40).prop_map(|lines| Step::RequestReturn { lines }),
        3 => (0usize..5, 0usize..5, any::<bool>()).prop_map(|(which, kind, restock)| Step::ReturnMove { which, kind, restock }),
        1 => (0usize..25, any::<bool>()).prop_map(|(parcel, restock)| Step::ReceiveBack { parcel, restock }),
        1 => Just(Step::Cancel),
        1 => Just(Step::Complete),
    ]
}

/// The command a step means for `order` now, if it names anything there.
fn command(order: &Order, step: &Step, serial: &mut u64) -> Option<OrderCommand> {
    let line = |i: usize| {
        order
            .lines
            .get(i % order.lines.len().max(1))
            .map(|l| l.id.clone())
    };
    let parcel = |i: usize| {
        order
            .shipments
            .get(i % order.shipments.len().max(1))
            .map(|s| s.id.clone())
    };
    let mut next_number = || {
        *serial += 1;
        TrackingNumber::parse(&dhl_number(*serial)).unwrap()
    };
    Some(match step {
        Step::Pack { lines, tracked } => {
            let mut items: Vec<(kontor_domain::types::LineId, Quantity)> = Vec::new();
            for i in lines {
                let id = line(*i)?;
                if order.units_left_to_pack(&id) > 0 && !items.iter().any(|(l, _)| *l == id) {
                    items.push((id, Quantity::new(1).unwrap()));
                }
            }
            OrderCommand::PackShipment(NewShipment {
                items,
                carrier: Carrier::Dhl,
                tracking_number: tracked.then(&mut next_number),
            })
        }
        Step::Move {
            parcel: p,
            status,
            renumber,
        } => OrderCommand::MoveShipment {
            shipment_id: parcel(*p)?,
            status: ShipmentStatus::ALL[*status % ShipmentStatus::ALL.len()],
            tracking_number: renumber.then(&mut next_number),
            location: Some("x".repeat(300)),
            notify: true,
        },
        Step::CarrierNews { parcel: p, status } => {
            *serial += 1;
            OrderCommand::ApplyCarrierMessage(kontor_domain::command::CarrierUpdate {
                shipment_id: parcel(*p)?,
                source: kontor_domain::command::MessageSource::Carrier(Carrier::Dhl),
                event_id: format!("e{serial}"),
                status: status.map(|s| ShipmentStatus::ALL[s % ShipmentStatus::ALL.len()]),
                reported: Some("y".repeat(500)),
                occurred_at: time::macros::datetime!(2026-11-29 11:00 UTC),
                location: Some("Leipzig".into()),
            })
        }
        Step::SendTracking { parcel: p } => OrderCommand::SendTracking {
            shipment_id: parcel(*p)?,
        },
        Step::Note { length } => OrderCommand::AddNote {
            text: NoteText::parse(&"n".repeat(*length)).unwrap(),
            visible_to_customer: length % 2 == 0,
        },
        Step::AddLine {
            sku,
            quantity,
            gift,
        } => OrderCommand::AddLine {
            sku: Sku::parse(&format!("P{:02}", sku % 40)).unwrap(),
            quantity: Quantity::new(*quantity).unwrap(),
            unit_price: gift.then(|| euros(0)),
            reason: Some("r".repeat(200)),
            notify_customer: true,
        },
        Step::ChangeLine { line: l, quantity } => OrderCommand::ChangeLine {
            line_id: line(*l)?,
            quantity: Some(Quantity::new(*quantity).unwrap()),
            unit_price: None,
            notify_customer: true,
        },
        Step::RemoveLine { line: l } => OrderCommand::RemoveLine {
            line_id: line(*l)?,
            notify_customer: true,
        },
        Step::Adjust { cents } => OrderCommand::Adjust {
            amount: euros(*cents),
            reason: "goodwill".into(),
            notify_customer: true,
        },
        Step::Rename { words } => OrderCommand::ChangeAddresses {
            shipping_address: Some(address(&long_name(*words, 's'))),
            billing_address: Some(address(&long_name(*words, 'b'))),
            notify_customer: true,
        },
        Step::Pay { cents } => OrderCommand::RecordPayment {
            amount: euros(*cents),
            date: time::macros::date!(2026 - 11 - 29),
            reference: "transfer".into(),
        },
        Step::RequestReturn { lines } => {
            let mut wanted: Vec<ReturnRequestLine> = Vec::new();
            for i in lines {
                let id = line(*i)?;
                if !wanted.iter().any(|l| l.line_id == id) {
                    wanted.push(ReturnRequestLine {
                        line_id: id,
                        quantity: Quantity::new(1).unwrap(),
                        reason: "too small".into(),
                        exchange_sku: None,
                    });
                }
            }
            OrderCommand::RequestReturn {
                lines: wanted,
                action: ReturnAction::Refund,
                comment: Some("c".repeat(1000)),
                override_window: true,
            }
        }
        Step::ReturnMove {
            which,
            kind,
            restock,
        } => {
            let found = order.returns.get(which % order.returns.len().max(1))?;
            let return_id = found.id.clone();
            match kind {
                0 => OrderCommand::ApproveReturn { return_id },
                1 => OrderCommand::ReceiveReturn {
                    return_id,
                    lines: found
                        .lines
                        .iter()
                        .map(|l| ReceivedLine {
                            line_id: l.line_id.clone(),
                            quantity: l.quantity.get(),
                            restocked: *restock,
                        })
                        .collect(),
                },
                2 => OrderCommand::RefundReturn {
                    return_id,
                    amount: None,
                    reason: None,
                },
                3 => OrderCommand::CloseReturn { return_id },
                _ => OrderCommand::RejectReturn {
                    return_id,
                    reason: "no".into(),
                },
            }
        }
        Step::ReceiveBack { parcel: p, restock } => OrderCommand::ReceiveReturnedParcel {
            shipment_id: parcel(*p)?,
            restock: *restock,
        },
        Step::Cancel => OrderCommand::Cancel {
            reason: Some("z".repeat(500)),
        },
        Step::Complete => OrderCommand::Complete { even_if_open: true },
    })
}

/// Decides `command` on `order` (skipped if the domain refuses it), checks
/// its transaction's size, and moves the order on. Answers the size.
fn apply(store: &DynamoStore, order: &mut Order, command: &OrderCommand) -> Option<usize> {
    let commit: OrderCommit = try_commit_of(order, command, 50).ok()?;
    let items = store.order_write_items(&commit).unwrap();
    assert!(
        items <= MAX_ITEMS,
        "{items} items for {command:?} on an order of {} lines, {} parcels, {} returns",
        order.lines.len(),
        order.shipments.len(),
        order.returns.len()
    );
    *order = commit.order;
    Some(items)
}

#[test]
fn random_changes_to_the_largest_order_each_fit_one_transaction() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let start = rt.block_on(largest_order());
    let store = builder();
    let cases = std::env::var("KONTOR_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let largest = std::cell::Cell::new(0usize);
    let applied = std::cell::Cell::new(0usize);
    runner
        .run(&prop::collection::vec(step(), 1..60), |steps| {
            let mut order = start.clone();
            let mut serial = 0;
            for step in &steps {
                if let Some(command) = command(&order, step, &mut serial) {
                    if let Some(items) = apply(&store, &mut order, &command) {
                        largest.set(largest.get().max(items));
                        applied.set(applied.get() + 1);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{} changes applied; the largest transaction held {} items",
        applied.get(),
        largest.get()
    );
    assert!(applied.get() > cases as usize, "the steps reach the order");
}

#[test]
fn the_worst_cases_built_on_purpose_fit_one_transaction() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = builder();
    let mut serial = 0;

    // 20 tracked parcels of one unit each, then cancelled: every line's
    // stock back and every number released in one write.
    let mut order = rt.block_on(largest_order());
    for n in 0..20 {
        let pack = Step::Pack {
            lines: vec![n],
            tracked: true,
        };
        let command = command(&order, &pack, &mut serial).unwrap();
        apply(&store, &mut order, &command).expect("a parcel");
    }
    let cancelled =
        apply(&store, &mut order, &OrderCommand::Cancel { reason: None }).expect("cancelled");
    eprintln!("cancel with 20 parcels: {cancelled} items");

    // Every line shipped and delivered, then all of it returned, received
    // back on the shelf and refunded.
    let mut order = rt.block_on(largest_order());
    let every_line: Vec<usize> = (0..order.lines.len()).collect();
    for _ in 0..2 {
        let pack = command(
            &order,
            &Step::Pack {
                lines: every_line.clone(),
                tracked: true,
            },
            &mut serial,
        )
        .unwrap();
        apply(&store, &mut order, &pack).expect("packed");
    }
    for parcel in 0..order.shipments.len() {
        for status in [ShipmentStatus::Shipped, ShipmentStatus::Delivered] {
            let moved = OrderCommand::MoveShipment {
                shipment_id: order.shipments[parcel].id.clone(),
                status,
                tracking_number: None,
                location: None,
                notify: true,
            };
            apply(&store, &mut order, &moved).expect("moved");
        }
    }
    let request = command(
        &order,
        &Step::RequestReturn {
            lines: every_line.clone(),
        },
        &mut serial,
    )
    .unwrap();
    let mut sizes = vec![apply(&store, &mut order, &request).expect("requested")];
    for kind in [0, 1, 2] {
        let next = command(
            &order,
            &Step::ReturnMove {
                which: 0,
                kind,
                restock: true,
            },
            &mut serial,
        )
        .unwrap();
        sizes.push(apply(&store, &mut order, &next).expect("return step"));
    }
    eprintln!("return of every line (request, approve, receive, refund): {sizes:?} items");

    // Both addresses renamed to names at their word limit.
    let mut order = rt.block_on(largest_order());
    let renamed = command(&order, &Step::Rename { words: 60 }, &mut serial).unwrap();
    let size = apply(&store, &mut order, &renamed).expect("renamed");
    eprintln!("both addresses renamed: {size} items");
}
