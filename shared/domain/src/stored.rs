//! Stored order documents, and their upgrades from older shapes.
//!
//! Both stores keep an order as one JSON document. When its shape changes,
//! the old shape is upgraded here, explicitly, step by step, rather than
//! papered over with defaults: the SQLite store runs the upgrade over every
//! row in a numbered migration, and every store upgrades a document it
//! reads (DynamoDB items are rewritten by the order's next change).
//!
//! Schema 1 (before 2026-11-29): history entries and parcel steps named
//! their author as a free string (`"staff lena@…"`, `"carrier DHL"`) and
//! the action as a word (`"shipment_shipped"`); no payments. Schema 2: a
//! typed [`crate::actor::Actor`] and [`crate::actor::HistoryAction`], and
//! the order's payments. Schema 3: each line's share of discounts and
//! adjustments (zero before), and the shipping charge with its own tax
//! (before, only inside the totals); the totals are derived on read.
//! Schema 4: the order's notes (none before). Schema 5: goodwill
//! adjustments and removed lines (none before), shipping's adjustment share
//! (zero), and the address a parcel that left went to (none recorded).
//! Schema 6: the order's returns (none before), and whether a parcel
//! returned to sender was taken back in (none was). Schema 7: discounts —
//! the order's discounts (none before), what they took off shipping and in
//! the totals (nothing), and the discount that gave a line away (none).

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::order::{Order, ORDER_SCHEMA};
use crate::shipment::Carrier;

#[derive(Debug, thiserror::Error)]
#[error("unreadable order document: {0}")]
pub struct StoredError(pub String);

/// Reads an order document of any known schema.
pub fn order_from_json(text: &str) -> Result<Order, StoredError> {
    let value: Value = serde_json::from_str(text).map_err(|e| StoredError(e.to_string()))?;
    order_from_value(value)
}

/// Reads an order document (already parsed) of any known schema. The
/// totals are derived from the lines and the shipping, never taken from
/// the document.
pub fn order_from_value(value: Value) -> Result<Order, StoredError> {
    let mut order: Order =
        serde_json::from_value(upgrade_order(value)?).map_err(|e| StoredError(e.to_string()))?;
    order.derive_money();
    Ok(order)
}

/// Brings an order document to [`ORDER_SCHEMA`].
pub fn upgrade_order(mut value: Value) -> Result<Value, StoredError> {
    let document = value
        .as_object_mut()
        .ok_or_else(|| StoredError("an order is a JSON object".into()))?;
    let schema = document.get("schema").and_then(Value::as_u64).unwrap_or(1);
    if schema > u64::from(ORDER_SCHEMA) {
        return Err(StoredError(format!(
            "schema {schema} is newer than this build knows ({ORDER_SCHEMA})"
        )));
    }
    if schema < 2 {
        upgrade_1_to_2(document);
    }
    if schema < 3 {
        upgrade_2_to_3(document)?;
    }
    if schema < 4 {
        document.insert("notes".into(), json!([]));
        document.insert("schema".into(), Value::from(4));
    }
    if schema < 5 {
        upgrade_4_to_5(document)?;
    }
    if schema < 6 {
        document.insert("returns".into(), json!([]));
        if let Some(Value::Array(shipments)) = document.get_mut("shipments") {
            for shipment in shipments.iter_mut().filter_map(Value::as_object_mut) {
                shipment.insert("received_back".into(), Value::Bool(false));
            }
        }
        document.insert("schema".into(), Value::from(6));
    }
    if schema < 7 {
        upgrade_6_to_7(document)?;
    }
    Ok(value)
}

fn upgrade_6_to_7(document: &mut Map<String, Value>) -> Result<(), StoredError> {
    let currency = document
        .get("currency")
        .cloned()
        .ok_or_else(|| StoredError("an order has a currency".into()))?;
    let zero = json!({"amount": "0.00", "currency": currency});
    document.insert("discounts".into(), json!([]));
    if let Some(Value::Object(shipping)) = document.get_mut("shipping") {
        shipping.insert("discount".into(), zero.clone());
    }
    if let Some(Value::Object(totals)) = document.get_mut("totals") {
        totals.insert("discounts".into(), zero);
    }
    for key in ["lines", "removed_lines"] {
        if let Some(Value::Array(lines)) = document.get_mut(key) {
            for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                line.insert("gift_of".into(), Value::Null);
            }
        }
    }
    document.insert("schema".into(), Value::from(7));
    Ok(())
}

fn upgrade_4_to_5(document: &mut Map<String, Value>) -> Result<(), StoredError> {
    let currency = document
        .get("currency")
        .cloned()
        .ok_or_else(|| StoredError("an order has a currency".into()))?;
    let zero = json!({"amount": "0.00", "currency": currency});
    document.insert("adjustments".into(), json!([]));
    document.insert("removed_lines".into(), json!([]));
    if let Some(Value::Object(shipping)) = document.get_mut("shipping") {
        shipping.insert("adjustment".into(), zero.clone());
    }
    if let Some(Value::Object(totals)) = document.get_mut("totals") {
        totals.insert("adjustments".into(), zero);
    }
    if let Some(Value::Array(shipments)) = document.get_mut("shipments") {
        for shipment in shipments.iter_mut().filter_map(Value::as_object_mut) {
            shipment.insert("ship_to".into(), Value::Null);
        }
    }
    document.insert("schema".into(), Value::from(5));
    Ok(())
}

fn upgrade_1_to_2(document: &mut Map<String, Value>) {
    let customer_id = document.get("customer_id").cloned().unwrap_or(Value::Null);
    for key in ["history", "shipments", "payments"] {
        let missing = document.get(key).is_none_or(Value::is_null);
        if missing {
            document.insert(key.into(), json!([]));
        }
    }
    if let Some(Value::Array(entries)) = document.get_mut("history") {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            let by = take_string(entry, "by");
            entry.insert("actor".into(), actor_from_legacy(&by, &customer_id));
            let action = entry
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            entry.insert("action".into(), Value::from(action_from_legacy(&action)));
        }
    }
    if let Some(Value::Array(shipments)) = document.get_mut("shipments") {
        for shipment in shipments.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Array(steps)) = shipment.get_mut("history") {
                for step in steps.iter_mut().filter_map(Value::as_object_mut) {
                    let by = take_string(step, "by");
                    step.insert("actor".into(), actor_from_legacy(&by, &customer_id));
                }
            }
        }
    }
    document.insert("schema".into(), Value::from(2));
}

fn upgrade_2_to_3(document: &mut Map<String, Value>) -> Result<(), StoredError> {
    let currency = document
        .get("currency")
        .cloned()
        .ok_or_else(|| StoredError("an order has a currency".into()))?;
    let amount = |v: Option<&Value>| -> Decimal {
        v.and_then(|m| m.get("amount"))
            .and_then(Value::as_str)
            .and_then(|a| a.parse().ok())
            .unwrap_or_default()
    };
    let money = |d: Decimal| json!({"amount": format!("{:.2}", d), "currency": currency});
    let mut line_tax = Decimal::ZERO;
    if let Some(Value::Array(lines)) = document.get_mut("lines") {
        for line in lines.iter_mut().filter_map(Value::as_object_mut) {
            line_tax += amount(line.get("tax"));
            line.insert("discount".into(), money(Decimal::ZERO));
            line.insert("adjustment".into(), money(Decimal::ZERO));
        }
    }
    // Shipping was taxed at the shop's standard rate (the highest in its
    // table), and its tax is what the totals hold beyond the lines' taxes.
    let totals = document.get("totals").cloned().unwrap_or(Value::Null);
    let shipping = amount(totals.get("shipping"));
    let rate = totals
        .get("taxes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            t.get("rate")
                .and_then(Value::as_str)?
                .parse::<Decimal>()
                .ok()
        })
        .max()
        .unwrap_or_default();
    let shipping_tax = if shipping.is_zero() {
        Decimal::ZERO
    } else {
        amount(totals.get("tax")) - line_tax
    };
    document.insert(
        "shipping".into(),
        json!({
            "amount": money(shipping),
            "tax_rate": rate.normalize().to_string(),
            "tax": money(shipping_tax),
        }),
    );
    document.insert("schema".into(), Value::from(3));
    Ok(())
}

fn take_string(object: &mut Map<String, Value>, key: &str) -> String {
    match object.remove(key) {
        Some(Value::String(text)) => text,
        _ => String::new(),
    }
}

/// Schema 1 wrote `guest`, `customer`, `staff`, `staff <e-mail>` and
/// `carrier <name>`.
fn actor_from_legacy(by: &str, customer_id: &Value) -> Value {
    let by = by.trim();
    if by == "guest" {
        return json!({"kind": "guest"});
    }
    if by == "customer" && customer_id.is_string() {
        return json!({"kind": "customer", "id": customer_id});
    }
    if by == "staff" {
        return json!({"kind": "staff", "email": "staff"});
    }
    if let Some(email) = by.strip_prefix("staff ") {
        return json!({"kind": "staff", "email": email});
    }
    let carrier_name = by.strip_prefix("carrier ").unwrap_or(by);
    if let Some(carrier) = Carrier::ALL
        .into_iter()
        .find(|c| c.display_name().eq_ignore_ascii_case(carrier_name) || c.code() == carrier_name)
    {
        return json!({"kind": "carrier", "carrier": carrier.code()});
    }
    json!({"kind": "system", "reason": if by.is_empty() { "unknown" } else { by }})
}

/// Schema 1 named a parcel's move `shipment_<status>`.
fn action_from_legacy(action: &str) -> &'static str {
    match action {
        "placed" => "placed",
        "shipment_packed" => "shipment_packed",
        "tracking_sent" => "tracking_sent",
        _ => "shipment_moved",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{Actor, HistoryAction};

    /// An order as schema 1 stored it, with a parcel moved by staff and a
    /// carrier.
    pub const SCHEMA_1_ORDER: &str = include_str!("../tests/fixtures/order-schema-1.json");

    #[test]
    fn a_schema_1_order_reads_with_typed_actors() {
        let order = order_from_json(SCHEMA_1_ORDER).expect("upgrades");
        assert_eq!(order.schema, ORDER_SCHEMA);
        assert!(order.payments.is_empty());
        let actors: Vec<_> = order.history.iter().map(|h| h.actor.clone()).collect();
        assert_eq!(
            actors,
            [
                Actor::Guest,
                Actor::Staff {
                    email: "lena@kontor.example".into()
                },
                Actor::Staff {
                    email: "lena@kontor.example".into()
                },
                Actor::Carrier {
                    carrier: Carrier::Dhl
                },
            ]
        );
        let actions: Vec<_> = order.history.iter().map(|h| h.action).collect();
        assert_eq!(
            actions,
            [
                HistoryAction::Placed,
                HistoryAction::ShipmentPacked,
                HistoryAction::ShipmentMoved,
                HistoryAction::ShipmentMoved
            ]
        );
        let steps = &order.shipments[0].history;
        assert_eq!(
            steps.last().unwrap().actor,
            Actor::Carrier {
                carrier: Carrier::Dhl
            }
        );
        // Upgrading is idempotent: a current document passes unchanged.
        let current = serde_json::to_value(&order).unwrap();
        assert_eq!(upgrade_order(current.clone()).unwrap(), current);
    }

    #[test]
    fn shipping_and_line_shares_are_filled_in_from_the_totals() {
        // The schema 1 fixture has free shipping; charge 4.95 of it (0.79
        // of it VAT at 19 %) as an order under 50 € would have.
        let mut value: Value = serde_json::from_str(SCHEMA_1_ORDER).unwrap();
        let eur = |a: &str| json!({"amount": a, "currency": "EUR"});
        value["totals"]["shipping"] = eur("4.95");
        let tax: Decimal = value["totals"]["tax"]["amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        value["totals"]["tax"] = eur(&(tax + Decimal::new(79, 2)).to_string());
        let order = order_from_value(value).unwrap();
        assert_eq!(order.shipping.amount.amount(), Decimal::new(495, 2));
        assert_eq!(order.shipping.tax.amount(), Decimal::new(79, 2));
        assert_eq!(order.shipping.tax_rate, Decimal::from(19));
        assert!(order
            .lines
            .iter()
            .all(|l| l.discount.is_zero() && l.adjustment.is_zero()));
        assert_eq!(
            order.totals.total.amount(),
            Decimal::new(11975, 2),
            "114.80 + 4.95"
        );
        assert_eq!(order.totals.tax.amount(), tax + Decimal::new(79, 2));
    }

    #[test]
    fn a_schema_4_order_reads_without_adjustments() {
        // The fixture as schema 4 stored it: no adjustments, no removed
        // lines, no shipping share, no parcel address.
        let mut value = serde_json::to_value(order_from_json(SCHEMA_1_ORDER).unwrap()).unwrap();
        let document = value.as_object_mut().unwrap();
        document.insert("schema".into(), json!(4));
        document.remove("returns");
        document.remove("adjustments");
        document.remove("removed_lines");
        document["shipping"]
            .as_object_mut()
            .unwrap()
            .remove("adjustment");
        document["totals"]
            .as_object_mut()
            .unwrap()
            .remove("adjustments");
        for shipment in document["shipments"].as_array_mut().unwrap() {
            shipment.as_object_mut().unwrap().remove("ship_to");
            shipment.as_object_mut().unwrap().remove("received_back");
        }
        let order = order_from_value(value).expect("upgrades");
        assert_eq!(order.schema, ORDER_SCHEMA);
        assert!(order.adjustments.is_empty() && order.removed_lines.is_empty());
        assert!(order.shipping.adjustment.is_zero());
        assert!(order.totals.adjustments.is_zero());
        assert!(order.shipments.iter().all(|s| s.ship_to.is_none()));
        assert_eq!(order.totals.total.amount(), Decimal::new(11480, 2));
    }

    #[test]
    fn a_schema_6_order_reads_without_discounts() {
        let mut value = serde_json::to_value(order_from_json(SCHEMA_1_ORDER).unwrap()).unwrap();
        let document = value.as_object_mut().unwrap();
        document.insert("schema".into(), json!(6));
        document.remove("discounts");
        document["shipping"]
            .as_object_mut()
            .unwrap()
            .remove("discount");
        document["totals"]
            .as_object_mut()
            .unwrap()
            .remove("discounts");
        for line in document["lines"].as_array_mut().unwrap() {
            line.as_object_mut().unwrap().remove("gift_of");
        }
        let order = order_from_value(value).expect("upgrades");
        assert_eq!(order.schema, ORDER_SCHEMA);
        assert!(order.discounts.is_empty() && order.shipping.discount.is_zero());
        assert!(order.totals.discounts.is_zero());
        assert!(order.lines.iter().all(|l| l.gift_of.is_none()));
        assert_eq!(order.totals.total.amount(), Decimal::new(11480, 2));
    }

    #[test]
    fn a_document_from_a_newer_build_is_refused() {
        let mut value: Value = serde_json::from_str(SCHEMA_1_ORDER).unwrap();
        value["schema"] = json!(99);
        assert!(order_from_value(value).is_err());
        assert!(order_from_json("[]").is_err());
    }
}
