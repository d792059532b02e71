//! The store contract: what every implementation of the store port must do.
//!
//! Each check takes a fresh, empty store. An adapter's test file declares
//! them all with [`store_contract_tests!`] and a factory for its store, so
//! SQLite and DynamoDB are held to the very same rules.

use std::sync::Arc;

use kontor_domain::access::AccessTokenHash;
use kontor_domain::actor::Actor;
use kontor_domain::command::{CommandContext, Effect, OrderCommand, OrderError};
use kontor_domain::customer::Customer;
use kontor_domain::events::Event;
use kontor_domain::money::Money;
use kontor_domain::order::Order;
use kontor_domain::order::{
    place_order, Address, CartLine, CheckoutDetails, Language, NewOrderContext, PaymentMethod,
};
use kontor_domain::order::{OrderFilter, PaymentStatus};
use kontor_domain::product::Product;
use kontor_domain::shipment::{Carrier, NewShipment, TrackingNumber, MAX_PARCELS_PER_ORDER};
use kontor_domain::{
    CountryCode, CustomerId, Email, EventId, OrderId, OrderNumber, Quantity, Sku, TextLine,
};
use kontor_platform::store::{
    IdempotencyRecord, OrderCommit, OrderCursor, OrderSearch, ProductQuery, Store, StoreError,
    StoredSetting, TrackingClaim,
};
use kontor_platform::ShopSettings;
use time::macros::datetime;

use crate::fixtures::product;

fn address_of(name: &str) -> Address {
    let text = |s: &str| TextLine::parse(s).expect("fixture text");
    Address {
        name: text(name),
        street: text("Hauptstraße 1"),
        postal_code: text("10115"),
        city: text("Berlin"),
        country: CountryCode::parse("DE").expect("fixture country"),
    }
}

/// The commit of `command` on `order` as staff, with `stock` units of every
/// product on the shelf as the decision saw it — as the order helper would
/// build it — and the order it leaves.
pub fn commit_of(order: &Order, command: &OrderCommand, stock: u32) -> OrderCommit {
    try_commit_of(order, command, stock).expect("the fixture's command is allowed")
}

/// [`commit_of`], or the domain's refusal of the command.
pub fn try_commit_of(
    order: &Order,
    command: &OrderCommand,
    stock: u32,
) -> Result<OrderCommit, OrderError> {
    let actor = Actor::Staff {
        email: "lena@kontor.example".into(),
    };
    let now = datetime!(2026-11-29 10:00 UTC);
    let products: Vec<Product> = command
        .stock_skus(order)
        .iter()
        .map(|sku| product(sku.as_str(), "10.00", stock, true))
        .collect();
    let settings = ShopSettings::default();
    let decision = order.decide(
        command,
        &CommandContext {
            now,
            actor: &actor,
            products: &products,
            tax_rates: settings.pricing.tax_rates,
            return_policy: &settings.returns,
            credit_notes_issued: 0,
        },
    )?;
    let mut next = order.clone();
    next.apply(&decision, now, &actor);
    let events = decision
        .events
        .into_iter()
        .enumerate()
        .map(|(i, payload)| Event {
            event_id: EventId::parse(&format!("{}-v{}-{i}", next.id, next.version)).unwrap(),
            occurred_at: now,
            order_id: next.id.clone(),
            order_version: next.version,
            payload,
        })
        .collect();
    Ok(OrderCommit::change(
        next,
        order.version,
        decision.history.len(),
        decision.effects,
        events,
    ))
}

/// A placement of `lines` against the store's current products, as checkout
/// would build it. `n` makes ids, number and idempotency key unique.
pub async fn placement(store: &dyn Store, lines: &[(&str, u32)], n: u64) -> OrderCommit {
    placement_by(store, lines, n, &Shopper::guest()).await
}

/// Who places a fixture order.
pub struct Shopper {
    pub email: &'static str,
    pub name: &'static str,
    /// A customer's record as it stood before this order.
    pub customer: Option<Customer>,
}

impl Shopper {
    pub fn guest() -> Self {
        Self {
            email: "anna@example.de",
            name: "Anna Muster",
            customer: None,
        }
    }

    /// A signed-in customer, as their record stands now.
    pub fn customer(record: Customer, name: &'static str) -> Self {
        Self {
            email: "eva@example.de",
            name,
            customer: Some(record),
        }
    }
}

/// Like [`placement`], by `shopper`; order `n` is placed `n` minutes after
/// 10:00, so later orders are newer.
pub async fn placement_by(
    store: &dyn Store,
    lines: &[(&str, u32)],
    n: u64,
    shopper: &Shopper,
) -> OrderCommit {
    let details = CheckoutDetails {
        lines: lines
            .iter()
            .map(|(sku, q)| CartLine {
                sku: Sku::parse(sku).expect("fixture sku"),
                quantity: Quantity::new(*q).expect("fixture quantity"),
                unit_price: None,
            })
            .collect(),
        email: Email::parse(shopper.email).expect("fixture e-mail"),
        shipping_address: address_of(shopper.name),
        billing_address: None,
        payment_method: PaymentMethod::Invoice,
        language: Language::De,
        send_confirmation: true,
        coupon: None,
    };
    let skus: Vec<Sku> = details.lines.iter().map(|l| l.sku.clone()).collect();
    let products = store.get_products(&skus).await.expect("read products");
    let context = NewOrderContext {
        id: OrderId::parse(&format!("order-{n}")).expect("id"),
        number: OrderNumber::parse(&format!("K-TEST-{n:04}")).expect("number"),
        now: datetime!(2026-11-28 10:00 UTC) + time::Duration::minutes(n as i64),
        customer_id: shopper.customer.as_ref().map(|c| c.id.clone()),
        access_token_hash: Some(AccessTokenHash::of("token")),
        taken_by: None,
        customer: Default::default(),
        promotions: None,
    };
    let mut event = 0;
    let placed = place_order(
        &details,
        &products,
        context,
        &ShopSettings::default().pricing,
        &mut || {
            event += 1;
            EventId::parse(&format!("event-{n}-{event}")).expect("event id")
        },
    )
    .expect("a placeable order");
    let customer = shopper
        .customer
        .as_ref()
        .map(|c| c.after_order(&placed.order));
    let created_at = placed.order.created_at;
    OrderCommit {
        idempotency: Some(IdempotencyRecord {
            key: format!("key-{n}"),
            request_hash: "hash".into(),
            status: 201,
            body: format!("{{\"n\":{n}}}"),
            created_at,
        }),
        customer,
        ..OrderCommit::new_order(placed)
    }
}

async fn stock_of(store: &dyn Store, sku: &str) -> u32 {
    store
        .get_product(&Sku::parse(sku).expect("sku"))
        .await
        .expect("read")
        .expect("product exists")
        .stock
}

pub async fn products_are_version_checked(store: Arc<dyn Store>) {
    let created = store
        .put_product(&product("A", "10.00", 5, false), None)
        .await
        .expect("create");
    assert_eq!(created.version, 1);
    assert!(matches!(
        store
            .put_product(&product("A", "10.00", 5, false), None)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let mut edited = created.clone();
    edited.stock = 7;
    let saved = store
        .put_product(&edited, Some(1))
        .await
        .expect("update at version 1");
    assert_eq!(saved.version, 2);
    // A second edit made from the same read is stale.
    assert!(matches!(
        store.put_product(&edited, Some(1)).await,
        Err(StoreError::StaleVersion { expected: 1, .. })
    ));
    assert_eq!(stock_of(store.as_ref(), "A").await, 7);
}

pub async fn products_are_listed_and_found(store: Arc<dyn Store>) {
    let mut belt = product("BELT", "20.00", 1, false);
    belt.category = "belts".into();
    belt.name = "Leather belt".into();
    store.put_product(&belt, None).await.expect("create");
    store
        .put_product(&product("CHINO", "50.00", 1, false), None)
        .await
        .expect("create");

    let all = store
        .list_products(&ProductQuery::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 2);
    let belts = store
        .list_products(&ProductQuery {
            category: Some("belts".into()),
            text: None,
        })
        .await
        .expect("list");
    assert_eq!(belts.len(), 1);
    let leather = store
        .list_products(&ProductQuery {
            category: None,
            text: Some("LEATHER".into()),
        })
        .await
        .expect("list");
    assert_eq!(leather.len(), 1);
    let found = store
        .get_products(&[Sku::parse("BELT").unwrap(), Sku::parse("NOPE").unwrap()])
        .await
        .expect("batch read");
    assert_eq!(found.len(), 1);
    assert!(store
        .get_product(&Sku::parse("NOPE").unwrap())
        .await
        .expect("read")
        .is_none());
}

pub async fn placing_an_order_commits_everything(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 5, false), None)
        .await
        .expect("create");
    store
        .put_product(&product("B", "10.00", 1, true), None)
        .await
        .expect("create");
    let placement = placement(store.as_ref(), &[("A", 2), ("B", 3)], 1).await;
    store.commit_order(&placement).await.expect("place");

    let order = store
        .get_order(&placement.order.id)
        .await
        .expect("read")
        .expect("order stored");
    assert_eq!(order, placement.order);
    assert_eq!(stock_of(store.as_ref(), "A").await, 3);
    assert_eq!(stock_of(store.as_ref(), "B").await, 0);
    let record = store
        .get_idempotency("key-1")
        .await
        .expect("read")
        .expect("record stored");
    assert_eq!(record.status, 201);
    assert_eq!(record.body, "{\"n\":1}");
    let pending = store.pending_events(100).await.expect("outbox");
    assert_eq!(pending, placement.events);
}

pub async fn a_checkout_reads_its_replay_and_products_together(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 5, false), None)
        .await
        .expect("create");
    store
        .put_product(&product("B", "10.00", 5, false), None)
        .await
        .expect("create");
    let skus = [
        Sku::parse("B").unwrap(),
        Sku::parse("NOPE").unwrap(),
        Sku::parse("A").unwrap(),
    ];
    let first = store
        .read_for_checkout("key-1", &skus, None, "anna@example.de")
        .await
        .expect("read");
    assert!(
        first.replay.is_none(),
        "no order was placed under key-1 yet"
    );
    let found: Vec<&str> = first.products.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!(found, ["B", "A"], "existing products, in the order asked");

    let placement = placement(store.as_ref(), &[("A", 1)], 1).await;
    store.commit_order(&placement).await.expect("place");
    let retry = store
        .read_for_checkout("key-1", &skus, None, "anna@example.de")
        .await
        .expect("read");
    assert_eq!(retry.replay, placement.idempotency);
    assert_eq!(retry.products.len(), 2);
    let other = store
        .read_for_checkout("key-2", &skus, None, "anna@example.de")
        .await
        .expect("read");
    assert!(other.replay.is_none(), "another key has no answer yet");
}

fn eva() -> Customer {
    Customer::new(
        CustomerId::parse("customer-eva").expect("id"),
        Email::parse("eva@example.de").expect("e-mail"),
        vec!["wholesale".into()],
    )
}

pub async fn customer_records_move_with_their_orders(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let first = placement_by(
        store.as_ref(),
        &[("A", 1)],
        1,
        &Shopper::customer(eva(), "Eva Berg"),
    )
    .await;
    store.commit_order(&first).await.expect("first order");
    let record = store
        .get_customer(&eva().id)
        .await
        .expect("read")
        .expect("the checkout wrote the record");
    assert_eq!(record.order_count, 1);
    assert_eq!(record.version, 1);
    assert_eq!(record.first_order_at, Some(first.order.created_at));
    assert_eq!(record.groups, ["wholesale"]);
    assert_eq!(
        record
            .default_shipping_address
            .as_ref()
            .map(|a| a.name.as_str()),
        Some("Eva Berg")
    );

    let read = store
        .read_for_checkout(
            "key-2",
            &[Sku::parse("A").unwrap()],
            Some(&eva().id),
            "eva@example.de",
        )
        .await
        .expect("read");
    assert_eq!(
        read.customer.as_ref(),
        Some(&record),
        "read with the products"
    );
    let second = placement_by(
        store.as_ref(),
        &[("A", 1)],
        2,
        &Shopper::customer(record.clone(), "Eva Berg"),
    )
    .await;
    store.commit_order(&second).await.expect("second order");
    let record = store.get_customer(&eva().id).await.unwrap().unwrap();
    assert_eq!((record.order_count, record.version), (2, 2));
    assert_eq!(record.first_order_at, Some(first.order.created_at));
    assert_eq!(record.last_order_at, Some(second.order.created_at));

    // A checkout that read the record before the second order committed
    // must not count over it: all of it is refused, stock included.
    let stale = placement_by(
        store.as_ref(),
        &[("A", 1)],
        3,
        &Shopper::customer(first.customer.clone().unwrap(), "Eva Berg"),
    )
    .await;
    assert!(matches!(
        store.commit_order(&stale).await,
        Err(StoreError::StaleVersion {
            entity: "customer",
            ..
        })
    ));
    assert!(store.get_order(&stale.order.id).await.unwrap().is_none());
    assert_eq!(stock_of(store.as_ref(), "A").await, 8);
    assert_eq!(
        store
            .get_customer(&eva().id)
            .await
            .unwrap()
            .unwrap()
            .order_count,
        2
    );
}

pub async fn customers_see_their_own_orders_newest_first(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let mut record = eva();
    let mut placed = Vec::new();
    for n in 1..=3 {
        let placement = placement_by(
            store.as_ref(),
            &[("A", 1)],
            n,
            &Shopper::customer(record.clone(), "Eva Berg"),
        )
        .await;
        store.commit_order(&placement).await.expect("place");
        record = placement.customer.clone().unwrap();
        placed.push(placement.order.id);
    }
    let guest = placement(store.as_ref(), &[("A", 1)], 4).await;
    store.commit_order(&guest).await.expect("guest order");

    let orders = store
        .customer_orders(&eva().id, None, 10)
        .await
        .expect("history");
    let ids: Vec<&OrderId> = orders.iter().map(|o| &o.id).collect();
    assert_eq!(ids, [&placed[2], &placed[1], &placed[0]]);
    let first_two = store
        .customer_orders(&eva().id, None, 2)
        .await
        .expect("history");
    assert_eq!(first_two.len(), 2);
    let stranger = CustomerId::parse("someone-else").unwrap();
    assert!(store
        .customer_orders(&stranger, None, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Seven orders of one customer, three of them in the same second (in
/// the opposite order of their ids, below the second): every list read
/// page by page, each page going on after the last order of the one
/// before, gives each order once, in the order the whole list has.
pub async fn order_lists_page_without_skipping_or_repeating(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 100, false), None)
        .await
        .expect("create");
    let mut record = eva();
    let same_second = datetime!(2026-11-28 12:00 UTC);
    for n in 1..=7 {
        let mut placement = placement_by(
            store.as_ref(),
            &[("A", 1)],
            n,
            &Shopper::customer(record.clone(), "Eva Berg"),
        )
        .await;
        if (3..=5).contains(&n) {
            placement.order.created_at =
                same_second + time::Duration::milliseconds(900 - 400 * (n as i64 - 3));
        }
        store.commit_order(&placement).await.expect("place");
        record = placement.customer.clone().unwrap();
    }

    let lists: [(&str, Option<&str>); 3] = [
        ("all", None),
        ("by e-mail", Some("eva@example.de")),
        ("by name", Some("berg")),
    ];
    for (what, text) in lists {
        let search = |after: Option<OrderCursor>, limit: usize| OrderSearch {
            text: text.map(str::to_string),
            filter: OrderFilter::default(),
            after,
            limit,
        };
        let whole = store
            .search_orders(&search(None, 50))
            .await
            .expect("search");
        assert_eq!(whole.len(), 7, "{what}");
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .search_orders(&search(after, 2))
                .await
                .expect("search");
            paged.extend(page.iter().map(|o| o.id.clone()));
            match page.last() {
                Some(last) if page.len() == 2 => after = Some(OrderCursor::after(last)),
                _ => break,
            }
        }
        let whole: Vec<OrderId> = whole.into_iter().map(|o| o.id).collect();
        assert_eq!(paged, whole, "{what}, two at a time");
    }

    let whole: Vec<OrderId> = store
        .customer_orders(&eva().id, None, 50)
        .await
        .expect("history")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(whole.len(), 7);
    let mut paged = Vec::new();
    let mut after: Option<OrderCursor> = None;
    loop {
        let page = store
            .customer_orders(&eva().id, after.as_ref(), 3)
            .await
            .expect("history");
        paged.extend(page.iter().map(|o| o.id.clone()));
        match page.last() {
            Some(last) if page.len() == 3 => after = Some(OrderCursor::after(last)),
            _ => break,
        }
    }
    assert_eq!(paged, whole, "a customer's orders, three at a time");

    let newest = store
        .get_order(&OrderId::parse("order-7").unwrap())
        .await
        .unwrap()
        .expect("placed");
    let number = OrderSearch {
        text: Some("K-TEST-0004".into()),
        after: Some(OrderCursor::after(&newest)),
        limit: 50,
        ..OrderSearch::default()
    };
    assert!(
        store
            .search_orders(&number)
            .await
            .expect("search")
            .is_empty(),
        "a number names one order: it has no second page"
    );
}

pub async fn staff_find_orders_by_number_email_name_and_status(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let anna = placement(store.as_ref(), &[("A", 1)], 1).await;
    store.commit_order(&anna).await.expect("place");
    let eva_order = placement_by(
        store.as_ref(),
        &[("A", 2)],
        2,
        &Shopper::customer(eva(), "Eva Maria Berg"),
    )
    .await;
    store.commit_order(&eva_order).await.expect("place");
    let pay = OrderCommand::RecordPayment {
        amount: eva_order.order.totals.total,
        date: time::macros::date!(2026 - 11 - 29),
        reference: "bank".into(),
    };
    let paid = commit_of(&eva_order.order, &pay, 0);
    assert_eq!(paid.order.payment_status, PaymentStatus::Paid);
    store.commit_order(&paid).await.expect("mark paid");

    let search = |text: Option<&str>, filter: OrderFilter| OrderSearch {
        text: text.map(str::to_string),
        filter,
        after: None,
        limit: 50,
    };
    let numbers = |orders: Vec<kontor_domain::order::Order>| -> Vec<String> {
        orders.into_iter().map(|o| o.number.to_string()).collect()
    };
    let find = |text: Option<&'static str>, filter: OrderFilter| {
        let store = Arc::clone(&store);
        let query = search(text, filter);
        async move { numbers(store.search_orders(&query).await.expect("search")) }
    };
    let anna_number = anna.order.number.to_string();
    let eva_number = eva_order.order.number.to_string();
    assert_eq!(
        find(None, OrderFilter::default()).await,
        [eva_number.as_str(), anna_number.as_str()],
        "all, newest first"
    );
    assert_eq!(
        find(Some("k-test-0001"), OrderFilter::default()).await,
        [anna_number.as_str()],
        "by number, any case"
    );
    assert_eq!(
        find(Some("K-TEST-9999"), OrderFilter::default()).await,
        Vec::<String>::new()
    );
    assert_eq!(
        find(Some("EVA@example.de"), OrderFilter::default()).await,
        [eva_number.as_str()],
        "by e-mail"
    );
    assert_eq!(
        find(Some("berg"), OrderFilter::default()).await,
        [eva_number.as_str()],
        "by a word of the name"
    );
    assert_eq!(
        find(Some("Berg, Eva"), OrderFilter::default()).await,
        [eva_number.as_str()],
        "every word, any order"
    );
    assert_eq!(
        find(Some("Anna Berg"), OrderFilter::default()).await,
        Vec::<String>::new(),
        "all words must match"
    );
    let paid_only = OrderFilter {
        payment_status: Some(PaymentStatus::Paid),
        ..OrderFilter::default()
    };
    assert_eq!(
        find(None, paid_only.clone()).await,
        [eva_number.as_str()],
        "by payment status"
    );
    assert_eq!(
        find(Some("anna@example.de"), paid_only).await,
        Vec::<String>::new(),
        "text and status together"
    );
    let limited = store
        .search_orders(&OrderSearch {
            text: None,
            filter: OrderFilter::default(),
            after: None,
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(numbers(limited), [eva_number.as_str()]);
}

pub async fn order_changes_take_stock_and_claim_tracking_numbers(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 1, true), None)
        .await
        .expect("create");
    let placed = placement(store.as_ref(), &[("A", 3)], 1).await;
    assert_eq!(placed.order.lines[0].backordered, 2);
    store.commit_order(&placed).await.expect("place");
    let line = placed.order.lines[0].id.clone();
    let t1 = TrackingNumber::parse("00340434161094042557").unwrap();
    let t2 = TrackingNumber::parse(&crate::fixtures::dhl_number(2)).unwrap();
    let pack = |quantity: u32, carrier: Carrier, number: &TrackingNumber| {
        OrderCommand::PackShipment(NewShipment {
            items: vec![(line.clone(), Quantity::new(quantity).unwrap())],
            carrier,
            tracking_number: Some(number.clone()),
        })
    };
    let claim = |number: &TrackingNumber, order: &Order, shipment: &str| TrackingClaim {
        number: number.clone(),
        order_id: order.id.clone(),
        shipment_id: shipment.to_string(),
    };

    // The unit reserved at checkout ships without touching stock.
    let first = commit_of(&placed.order, &pack(1, Carrier::Dhl, &t1), 0);
    store.commit_order(&first).await.expect("first parcel");
    let order = first.order.clone();
    assert_eq!(
        store.get_order(&order.id).await.unwrap().unwrap(),
        order,
        "read back as written"
    );
    assert_eq!(
        store.find_tracking(&t1).await.unwrap(),
        Some(claim(&t1, &order, "S1"))
    );
    let found = store
        .search_orders(&OrderSearch {
            text: Some(t1.to_string().to_lowercase()),
            filter: OrderFilter::default(),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "staff find the order by tracking number");

    // Two backordered units while none is in stock: refused whole.
    let short = commit_of(&order, &pack(2, Carrier::Dhl, &t2), 2);
    assert!(matches!(
        store.commit_order(&short).await,
        Err(StoreError::StockShort { available: 0, .. })
    ));
    assert_eq!(
        store.get_order(&order.id).await.unwrap().unwrap(),
        order,
        "nothing written"
    );
    assert_eq!(store.find_tracking(&t2).await.unwrap(), None);
    assert_eq!(stock_of(store.as_ref(), "A").await, 0, "stock untouched");

    // A tracking number another parcel has is refused whole, too.
    let a = store
        .get_product(&Sku::parse("A").unwrap())
        .await
        .unwrap()
        .unwrap();
    let restocked = Product {
        stock: 5,
        ..a.clone()
    };
    store
        .put_product(&restocked, Some(a.version))
        .await
        .expect("restock");
    let taken = commit_of(&order, &pack(2, Carrier::Dhl, &t1), 5);
    assert!(matches!(
        store.commit_order(&taken).await,
        Err(StoreError::TrackingNumberTaken(number)) if number == t1
    ));
    assert_eq!(store.get_order(&order.id).await.unwrap().unwrap(), order);
    assert_eq!(stock_of(store.as_ref(), "A").await, 5, "stock untouched");

    // A corrected number releases the old claim in the same write.
    let corrected = OrderCommand::MoveShipment {
        shipment_id: "S1".into(),
        status: kontor_domain::shipment::ShipmentStatus::Shipped,
        tracking_number: Some(t2.clone()),
        location: None,
        notify: false,
    };
    let moved = commit_of(&order, &corrected, 0);
    assert!(moved
        .effects
        .contains(&Effect::ReleaseTracking { number: t1.clone() }));
    store.commit_order(&moved).await.expect("new number");
    assert_eq!(store.find_tracking(&t1).await.unwrap(), None);
    assert_eq!(
        store.find_tracking(&t2).await.unwrap(),
        Some(claim(&t2, &moved.order, "S1"))
    );
}

/// Cancelling puts every unit the order took back on the shelf, releases
/// its packed parcels' numbers and takes it out of the expiry list — in
/// the order's own write.
pub async fn cancelling_returns_stock_and_releases_claims(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 4, true), None)
        .await
        .expect("create");
    store
        .put_product(&product("B", "5.00", 10, false), None)
        .await
        .expect("create");
    let mut placed = placement(store.as_ref(), &[("A", 6), ("B", 2)], 1).await;
    placed.order.payment_method = PaymentMethod::Prepayment;
    store.commit_order(&placed).await.expect("place");
    assert_eq!(stock_of(store.as_ref(), "A").await, 0);
    let later = datetime!(2026-12-30 10:00 UTC);
    assert_eq!(
        store.unpaid_orders(later, 10).await.unwrap(),
        [placed.order.id.clone()],
        "an unpaid prepayment order waits for its money"
    );
    let number = TrackingNumber::parse("00340434161094042557").unwrap();
    let packed = commit_of(
        &placed.order,
        &OrderCommand::PackShipment(NewShipment {
            items: vec![(placed.order.lines[1].id.clone(), Quantity::new(2).unwrap())],
            carrier: Carrier::Dhl,
            tracking_number: Some(number.clone()),
        }),
        0,
    );
    store.commit_order(&packed).await.expect("pack");
    let cancelled = commit_of(
        &packed.order,
        &OrderCommand::Cancel {
            reason: Some("customer called".into()),
        },
        0,
    );
    store.commit_order(&cancelled).await.expect("cancel");
    assert_eq!(
        stock_of(store.as_ref(), "A").await,
        4,
        "the 4 taken at checkout"
    );
    assert_eq!(stock_of(store.as_ref(), "B").await, 10);
    assert_eq!(store.find_tracking(&number).await.unwrap(), None);
    assert!(
        store.unpaid_orders(later, 10).await.unwrap().is_empty(),
        "a cancelled order no longer expires"
    );
    let stored = store.get_order(&placed.order.id).await.unwrap().unwrap();
    assert_eq!(stored, cancelled.order);
    // The stale writer that also read the packed order loses.
    assert!(matches!(
        store.commit_order(&cancelled).await,
        Err(StoreError::StaleVersion { .. })
    ));
    assert_eq!(stock_of(store.as_ref(), "A").await, 4, "returned once");
}

/// The expiry list holds only unpaid prepayment orders placed before the
/// cut-off, oldest first, and a payment takes an order off it.
pub async fn unpaid_prepayment_orders_are_listed_for_expiry(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let mut ids = Vec::new();
    for (n, method) in [
        (1, PaymentMethod::Prepayment),
        (2, PaymentMethod::Invoice),
        (3, PaymentMethod::Prepayment),
    ] {
        let mut placed = placement(store.as_ref(), &[("A", 1)], n).await;
        placed.order.payment_method = method;
        placed.order.created_at += time::Duration::hours(n as i64);
        store.commit_order(&placed).await.expect("place");
        ids.push(placed.order);
    }
    let cutoff = ids[2].created_at;
    assert_eq!(
        store.unpaid_orders(cutoff, 10).await.unwrap(),
        [ids[0].id.clone()],
        "placed before the cut-off, prepayment only"
    );
    let everything = cutoff + time::Duration::days(1);
    assert_eq!(
        store.unpaid_orders(everything, 10).await.unwrap(),
        [ids[0].id.clone(), ids[2].id.clone()],
        "oldest first"
    );
    assert_eq!(store.unpaid_orders(everything, 1).await.unwrap().len(), 1);
    let pay = OrderCommand::RecordPayment {
        amount: Money::new(rust_decimal::Decimal::ONE, ids[0].currency),
        date: time::macros::date!(2026 - 11 - 29),
        reference: "bank".into(),
    };
    store
        .commit_order(&commit_of(&ids[0], &pay, 0))
        .await
        .expect("pay");
    assert_eq!(
        store.unpaid_orders(everything, 10).await.unwrap(),
        [ids[2].id.clone()],
        "a part payment takes it off the list"
    );
}

pub async fn settings_are_versioned(store: Arc<dyn Store>) {
    assert_eq!(store.get_setting("carrier-links").await.unwrap(), None);
    let first = serde_json::json!({"dhl": "https://example.test/{tracking}"});
    assert_eq!(
        store
            .put_setting("carrier-links", &first, 0)
            .await
            .expect("save"),
        1
    );
    assert_eq!(
        store.get_setting("carrier-links").await.unwrap(),
        Some(StoredSetting {
            value: first.clone(),
            version: 1
        })
    );
    // A second "first save" is somebody else's edit: refused.
    assert!(matches!(
        store.put_setting("carrier-links", &first, 0).await,
        Err(StoreError::StaleVersion { .. })
    ));
    let second = serde_json::json!({"dhl": ""});
    assert_eq!(
        store
            .put_setting("carrier-links", &second, 1)
            .await
            .expect("save again"),
        2
    );
    // An edit made on version 1 comes too late now.
    let lost = serde_json::json!({"dhl": "https://lost.example/{tracking}"});
    assert!(matches!(
        store.put_setting("carrier-links", &lost, 1).await,
        Err(StoreError::StaleVersion {
            entity: "setting",
            expected: 1
        })
    ));
    assert_eq!(
        store.get_setting("carrier-links").await.unwrap(),
        Some(StoredSetting {
            value: second,
            version: 2
        })
    );
    assert_eq!(store.get_setting("other").await.unwrap(), None);
}

/// An order that lived long — 2,000 history entries and the most parcels
/// an order goes out in — saves and reads back whole, and changes still write (the DynamoDB store
/// keeps the history beside the order, so the order's item stays small).
pub async fn a_long_lived_order_saves_and_loads_whole(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "1.00", 500, false), None)
        .await
        .expect("create");
    let placed = placement(store.as_ref(), &[("A", 100)], 1).await;
    store.commit_order(&placed).await.expect("place");
    let line = placed.order.lines[0].id.clone();
    let pack = |number: Option<&str>| {
        OrderCommand::PackShipment(NewShipment {
            items: vec![(line.clone(), Quantity::new(1).unwrap())],
            carrier: Carrier::Dhl,
            tracking_number: number.map(|n| TrackingNumber::parse(n).unwrap()),
        })
    };
    let resend = OrderCommand::SendTracking {
        shipment_id: "S1".into(),
    };
    // `times` + 1 decisions of `command` in one commit, as if they had
    // happened one after the other (a DynamoDB transaction holds at most
    // 100 items, so the history is written in parts).
    let repeated = |order: &Order, command: &OrderCommand, times: usize| {
        let mut commit = commit_of(order, command, 0);
        for _ in 0..times {
            let next = commit_of(&commit.order, command, 0);
            commit.order = next.order;
            commit.appended_history += next.appended_history;
        }
        commit.events.clear();
        commit
    };
    let first = commit_of(
        &placed.order,
        &pack(Some(&crate::fixtures::dhl_number(1))),
        0,
    );
    store.commit_order(&first).await.expect("first parcel");
    let mut order = first.order;
    let commit = repeated(&order, &pack(None), MAX_PARCELS_PER_ORDER - 2);
    store.commit_order(&commit).await.expect("parcels");
    order = commit.order;
    while order.history.len() < 2_000 {
        let times = (2_000 - order.history.len()).min(95) - 1;
        let commit = repeated(&order, &resend, times);
        store.commit_order(&commit).await.expect("history");
        order = commit.order;
    }
    assert_eq!(order.history.len(), 2_000);
    assert_eq!(order.shipments.len(), MAX_PARCELS_PER_ORDER);
    let stored = store.get_order(&order.id).await.unwrap().unwrap();
    assert_eq!(stored, order, "read back whole");
    // And it still changes as any order does.
    let last = commit_of(&stored, &resend, 0);
    assert_eq!(last.order.shipments.len(), MAX_PARCELS_PER_ORDER);
    store.commit_order(&last).await.expect("one more change");
    assert_eq!(
        store
            .get_order(&order.id)
            .await
            .unwrap()
            .unwrap()
            .history
            .len(),
        2_001
    );
}

pub async fn placing_an_order_is_all_or_nothing(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 5, false), None)
        .await
        .expect("create");
    store
        .put_product(&product("B", "10.00", 2, false), None)
        .await
        .expect("create");
    let placement = placement(store.as_ref(), &[("A", 1), ("B", 2)], 1).await;
    // Somebody takes one B between our read and our write.
    let mut b = store
        .get_product(&Sku::parse("B").unwrap())
        .await
        .unwrap()
        .unwrap();
    b.stock = 1;
    store
        .put_product(&b, Some(b.version))
        .await
        .expect("stock edit");

    match store.commit_order(&placement).await {
        Err(StoreError::StockShort { sku, available }) => {
            assert_eq!(sku.as_str(), "B");
            assert_eq!(available, 1);
        }
        other => panic!("expected InsufficientStock, got {other:?}"),
    }
    assert!(store
        .get_order(&placement.order.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        stock_of(store.as_ref(), "A").await,
        5,
        "A's decrement was rolled back"
    );
    assert!(store.get_idempotency("key-1").await.unwrap().is_none());
    assert!(store.pending_events(100).await.unwrap().is_empty());
}

pub async fn idempotency_keys_and_numbers_are_taken_once(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let first = placement(store.as_ref(), &[("A", 1)], 1).await;
    store.commit_order(&first).await.expect("place");

    let mut same_key = placement(store.as_ref(), &[("A", 1)], 2).await;
    same_key.idempotency = first.idempotency.clone();
    assert!(matches!(
        store.commit_order(&same_key).await,
        Err(StoreError::IdempotencyKeyTaken)
    ));

    let mut same_number = placement(store.as_ref(), &[("A", 1)], 3).await;
    same_number.order.number = first.order.number.clone();
    assert!(matches!(
        store.commit_order(&same_number).await,
        Err(StoreError::OrderNumberTaken)
    ));

    assert_eq!(
        stock_of(store.as_ref(), "A").await,
        9,
        "only the first order took stock"
    );
    assert!(store.get_order(&same_key.order.id).await.unwrap().is_none());
    assert!(store
        .get_order(&same_number.order.id)
        .await
        .unwrap()
        .is_none());
}

pub async fn stale_order_versions_are_refused(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let placement = placement(store.as_ref(), &[("A", 1)], 1).await;
    store.commit_order(&placement).await.expect("place");
    store
        .mark_published(
            &placement
                .events
                .iter()
                .map(|e| e.event_id.clone())
                .collect::<Vec<_>>(),
        )
        .await
        .expect("publish");

    let pay = |euros: i64| OrderCommand::RecordPayment {
        amount: Money::new(rust_decimal::Decimal::from(euros), placement.order.currency),
        date: time::macros::date!(2026 - 11 - 29),
        reference: "bank".into(),
    };
    let first_edit = commit_of(&placement.order, &pay(1), 0);
    store
        .commit_order(&first_edit)
        .await
        .expect("commit at version 1");

    // A second writer that also read version 1 loses, and its events with it.
    let second_edit = commit_of(&placement.order, &pay(2), 0);
    assert!(matches!(
        store.commit_order(&second_edit).await,
        Err(StoreError::StaleVersion { expected: 1, .. })
    ));
    let stored = store.get_order(&placement.order.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored, first_edit.order);
    let pending = store.pending_events(100).await.unwrap();
    assert_eq!(pending, first_edit.events);
}

pub async fn the_outbox_hands_out_events_until_published(store: Arc<dyn Store>) {
    store
        .put_product(&product("A", "10.00", 10, false), None)
        .await
        .expect("create");
    let first = placement(store.as_ref(), &[("A", 1)], 1).await;
    let second = placement(store.as_ref(), &[("A", 1)], 2).await;
    store.commit_order(&first).await.expect("place");
    store.commit_order(&second).await.expect("place");

    let pending = store.pending_events(100).await.unwrap();
    let expected: Vec<_> = first.events.iter().chain(&second.events).cloned().collect();
    assert_eq!(pending, expected, "oldest first");
    assert_eq!(store.pending_events(1).await.unwrap().len(), 1);

    store
        .mark_published(&[first.events[0].event_id.clone()])
        .await
        .unwrap();
    let rest = store.pending_events(100).await.unwrap();
    assert_eq!(rest.len(), expected.len() - 1);
    assert!(!rest.contains(&first.events[0]));
}

pub async fn consumers_record_each_event_once(store: Arc<dyn Store>) {
    let id = EventId::parse("event-1").unwrap();
    assert!(!store.has_processed("notifier", &id).await.unwrap());
    assert!(store.record_processed("notifier", &id).await.unwrap());
    assert!(store.has_processed("notifier", &id).await.unwrap());
    assert!(!store.has_processed("other", &id).await.unwrap());
    assert!(!store.record_processed("notifier", &id).await.unwrap());
    assert!(
        store.record_processed("other", &id).await.unwrap(),
        "scoped per consumer"
    );
}

/// A delivery claims an event before it acts: a second delivery meanwhile
/// is told it is busy, a claim lapses with its lease, a failed attempt
/// gives it up, and a handled event stays handled. Of 20 deliveries at
/// once exactly one is granted the claim.
pub async fn deliveries_claim_an_event_once(store: Arc<dyn Store>) {
    use kontor_platform::Claim;
    let id = EventId::parse("event-claimed").unwrap();
    let now = 1_795_860_000;
    assert_eq!(
        store.claim("notifier", &id, now, 300).await.unwrap(),
        Claim::Claimed
    );
    assert!(
        !store.has_processed("notifier", &id).await.unwrap(),
        "a claim is not a record"
    );
    assert_eq!(
        store.claim("notifier", &id, now + 10, 300).await.unwrap(),
        Claim::Busy
    );
    assert_eq!(
        store.claim("other", &id, now, 300).await.unwrap(),
        Claim::Claimed,
        "scoped per consumer"
    );
    // The holder vanished: its claim lapses with the lease.
    assert_eq!(
        store.claim("notifier", &id, now + 300, 300).await.unwrap(),
        Claim::Claimed
    );
    // A failed attempt gives it up at once.
    store.release("notifier", &id).await.unwrap();
    assert_eq!(
        store.claim("notifier", &id, now + 301, 300).await.unwrap(),
        Claim::Claimed
    );
    // Sent and recorded: every later delivery finds it done.
    assert!(store.record_processed("notifier", &id).await.unwrap());
    assert!(store.has_processed("notifier", &id).await.unwrap());
    assert_eq!(
        store.claim("notifier", &id, now + 302, 300).await.unwrap(),
        Claim::Done
    );
    assert_eq!(
        store
            .claim("notifier", &id, now + 9_999, 300)
            .await
            .unwrap(),
        Claim::Done
    );
    store.release("notifier", &id).await.unwrap();
    assert!(
        store.has_processed("notifier", &id).await.unwrap(),
        "a record is not given up"
    );
    assert!(!store.record_processed("notifier", &id).await.unwrap());

    let contested = EventId::parse("event-contested").unwrap();
    let attempts = (0..20).map(|_| {
        let store = store.clone();
        let contested = contested.clone();
        tokio::spawn(async move { store.claim("notifier", &contested, now, 300).await.unwrap() })
    });
    let mut granted = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Claim::Claimed => granted += 1,
            Claim::Busy => {}
            Claim::Done => panic!("nobody recorded it"),
        }
    }
    assert_eq!(granted, 1, "one delivery of twenty holds the event");
}

/// A consumer's mark per key only moves up: the same version again is
/// still the latest (a retried delivery), an older one is stale.
pub async fn consumer_marks_only_move_up(store: Arc<dyn Store>) {
    let key = "parcel#order-1#S1";
    assert!(store.advance("notifier", key, 5).await.unwrap());
    assert!(
        store.advance("notifier", key, 5).await.unwrap(),
        "the same again"
    );
    assert!(store.advance("notifier", key, 7).await.unwrap());
    assert!(!store.advance("notifier", key, 6).await.unwrap(), "stale");
    assert!(store.advance("notifier", key, 7).await.unwrap());
    assert!(
        store.advance("other", key, 1).await.unwrap(),
        "scoped per consumer"
    );
    assert!(
        store
            .advance("notifier", "parcel#order-1#S2", 1)
            .await
            .unwrap(),
        "and per key"
    );
}

/// 200 concurrent orders of one unit each against a stock of 50: exactly 50
/// succeed, the others find the stock gone, and the stock ends at 0.
pub async fn concurrent_orders_never_oversell(store: Arc<dyn Store>) {
    store
        .put_product(&product("HOT", "10.00", 50, false), None)
        .await
        .expect("create");
    let mut placements = Vec::new();
    for n in 0..200 {
        placements.push(placement(store.as_ref(), &[("HOT", 1)], n).await);
    }
    let tasks: Vec<_> = placements
        .into_iter()
        .map(|placement| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.commit_order(&placement).await })
        })
        .collect();
    let mut placed = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(()) => placed += 1,
            Err(StoreError::StockShort { available: 0, .. }) => refused += 1,
            Err(other) => panic!("unexpected store error: {other:?}"),
        }
    }
    assert_eq!((placed, refused), (50, 150));
    assert_eq!(stock_of(store.as_ref(), "HOT").await, 0);
}

/// Declares one `#[tokio::test]` per contract check, each on a fresh store
/// from `$fresh` (an async expression giving an `Arc<dyn Store>`), so every
/// adapter runs the same list and a failure names its check.
#[macro_export]
macro_rules! store_contract_tests {
    ($fresh:expr) => {
        $crate::store_contract_tests!(@each $fresh;
            products_are_version_checked,
            products_are_listed_and_found,
            placing_an_order_commits_everything,
            a_checkout_reads_its_replay_and_products_together,
            customer_records_move_with_their_orders,
            customers_see_their_own_orders_newest_first,
            staff_find_orders_by_number_email_name_and_status,
            order_lists_page_without_skipping_or_repeating,
            order_changes_take_stock_and_claim_tracking_numbers,
            cancelling_returns_stock_and_releases_claims,
            unpaid_prepayment_orders_are_listed_for_expiry,
            settings_are_versioned,
            a_long_lived_order_saves_and_loads_whole,
            placing_an_order_is_all_or_nothing,
            idempotency_keys_and_numbers_are_taken_once,
            stale_order_versions_are_refused,
            the_outbox_hands_out_events_until_published,
            consumers_record_each_event_once,
            deliveries_claim_an_event_once,
            consumer_marks_only_move_up,
            concurrent_orders_never_oversell,
        );
    };
    (@each $fresh:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            $crate::contract::$check($fresh).await;
        }
    )*};
}
