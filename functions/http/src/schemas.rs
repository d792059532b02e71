//! What the OpenAPI document says about the domain's parsed values.
//!
//! The domain's types (`Quantity`, `Sku`, `TextLine`, …) refuse a value
//! in their `parse`; a client only learns those rules if the document
//! states them. Each type here stands for one domain type in request
//! bodies and parameters (`#[schema(value_type = schemas::Quantity)]`) and
//! carries exactly the domain's rule as JSON Schema: neither looser (a
//! request valid by the document would be refused) nor stricter (a request
//! the document forbids would be taken). Both directions are checked by
//! schemathesis in CI (`tests/api/schemathesis.sh`), and the patterns are
//! checked against the parsers themselves in this module's tests.
//!
//! Patterns are the subset of regular expressions that JSON Schema
//! (ECMA-262) and Python's `re` (which schemathesis validates and
//! generates with) read alike: no `\s` (the two disagree about
//! U+001C–U+001F), but the exact set of characters Rust's `trim` removes.

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The characters Rust's `str::trim` removes (Unicode `White_Space`), as
/// the inside of a character class.
pub const TRIMMED: &str =
    r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Unicode's control characters (`char::is_control`, category Cc).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// Control characters but line breaks and tabs, which notes may hold.
const CONTROL_BUT_BREAKS: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

/// Text that is `1..=max` characters once trimmed and holds none of
/// `refused` (in a character class) inside: what `TextLine` and `NoteText`
/// parse.
fn trimmed_text(max: usize, refused: &str) -> String {
    let edge = format!("[^{TRIMMED}{refused}]");
    format!(
        "^[{TRIMMED}]*{edge}(?:[^{refused}]{{0,{middle}}}{edge})?[{TRIMMED}]*$",
        middle = max - 2
    )
}

fn text_line_pattern() -> String {
    trimmed_text(200, CONTROL)
}

fn note_text_pattern() -> String {
    trimmed_text(kontor_domain::NoteText::MAX_CHARS, CONTROL_BUT_BREAKS)
}

fn sku_pattern() -> String {
    format!("^[{TRIMMED}]*[A-Za-z0-9._-]{{1,64}}[{TRIMMED}]*$")
}

fn country_pattern() -> String {
    format!("^[{TRIMMED}]*[A-Za-z]{{2}}[{TRIMMED}]*$")
}

fn email_pattern() -> String {
    format!("^[^@]*[^@{TRIMMED}{CONTROL}]@[^@]*$")
}

/// Ids made by the domain's `id_newtype!` (`LineId`, …): taken as sent.
const ID_PATTERN: &str = r"^[A-Za-z0-9_-]{1,64}$";

/// Spaces and no-break spaces may group a tracking number anywhere.
const TRACKING_NUMBER_PATTERN: &str = r"^[ \xa0]*(?:[A-Za-z0-9-][ \xa0]*){4,40}$";

/// A decimal as `rust_decimal` reads it from a string: a sign, digits
/// (`_` may group them after the first), a fraction and an exponent below
/// 100 (whose sign it reads twice, `1e-+2`). Amounts too large for a
/// decimal, out of the field's bounds or finer than a cent are refused by
/// the field's own rule (422).
const DECIMAL_PATTERN: &str =
    r"^[+-]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE]-?\+?0*[0-9]{1,2})?$";

/// What `Idempotency-Key` headers hold: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[!-~]{1,255}$";

fn string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([serde_json::Value::from(example)])
        .into()
}

/// Declares a marker type whose schema is `$schema`, named `$name` in
/// the document's components.
macro_rules! schema_type {
    ($(#[$meta:meta])* $name:ident => $schema:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $name {}
    };
}

schema_type!(
    /// `kontor_domain::Quantity`: 1 to 999 units.
    Quantity => ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(1))
        .maximum(Some(kontor_domain::Quantity::MAX))
        .examples([serde_json::Value::from(1)])
        .into()
);

schema_type!(
    /// `kontor_domain::Sku`.
    Sku => string(
        "1 to 64 letters, digits, '-', '_' and '.'; lower case is read as upper case.",
        &sku_pattern(),
        "TR-CHINO-BEIGE",
    )
);

schema_type!(
    /// `kontor_domain::TextLine`.
    TextLine => string(
        "One line of text: 1 to 200 characters once trimmed, no control characters.",
        &text_line_pattern(),
        "Anna Muster",
    )
);

schema_type!(
    /// `kontor_domain::NoteText`.
    NoteText => string(
        "1 to 5,000 characters once trimmed; line breaks and tabs allowed, other control characters not.",
        &note_text_pattern(),
        "Customer called: wants it before Friday.",
    )
);

schema_type!(
    /// `kontor_domain::CountryCode`: the pattern is its shape; a code
    /// ISO 3166-1 does not assign, or a country the shop does not ship to,
    /// is refused by the operation (422).
    CountryCode => string(
        "An ISO 3166-1 alpha-2 country code, any case.",
        &country_pattern(),
        "DE",
    )
);

schema_type!(
    /// `kontor_domain::TrackingNumber`: its shape; each carrier's own
    /// format and check digit are checked by the operation (422).
    TrackingNumber => string(
        "4 to 40 letters, digits or '-', as printed (spaces may group them).",
        TRACKING_NUMBER_PATTERN,
        "00340434161094042557",
    )
);

schema_type!(
    /// `kontor_domain::LineId` (and the other ids of its kind).
    LineId => string(
        "An order line's id, as the order names it (`L1`).",
        ID_PATTERN,
        "L1",
    )
);

schema_type!(
    /// An amount of money as a decimal string.
    Amount => string(
        "A decimal amount in the shop's currency, e.g. \"59.90\".",
        DECIMAL_PATTERN,
        "59.90",
    )
);

schema_type!(
    /// An optional amount (`rust_decimal::serde::str_option`): an empty
    /// string means none, as leaving the field out does.
    AmountOrEmpty => string(
        "A decimal amount in the shop's currency, or \"\" for none.",
        &format!("^$|{DECIMAL_PATTERN}"),
        "59.90",
    )
);

schema_type!(
    /// `kontor_domain::Email`: what the document can state of it is that
    /// it holds an `@`; the rest is the operation's 422.
    Email => string(
        "An e-mail address, at most 254 characters.",
        &email_pattern(),
        "anna@example.de",
    )
);

/// A string that is one of `variants`, each as serde writes it.
fn enumeration<T: serde::Serialize>(variants: &[T]) -> RefOr<Schema> {
    let names = variants
        .iter()
        .filter_map(|v| match serde_json::to_value(v) {
            Ok(serde_json::Value::String(name)) => Some(name),
            _ => None,
        });
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(names))
        .into()
}

/// Declares a marker type for a domain enum: its schema lists every
/// variant — the domain's own `ALL` where it has one, else the variants
/// named here, whose `match` makes a variant added to the domain a compile
/// error until it is listed.
macro_rules! enum_schema {
    ($name:ident = $($path:ident)::+ { $($variant:ident),+ $(,)? }) => {
        enum_schema!(@schema $name = $($path)::+ {
            use $($path)::+ as Domain;
            let every = |variant: Domain| match variant {
                $(Domain::$variant)|+ => variant,
            };
            vec![$(every(Domain::$variant)),+]
        });
    };
    ($name:ident = $($path:ident)::+, ALL) => {
        enum_schema!(@schema $name = $($path)::+ { $($path)::+::ALL.to_vec() });
    };
    (@schema $name:ident = $($path:ident)::+ $variants:block) => {
        pub struct $name;

        impl $name {
            pub fn variants() -> Vec<$($path)::+> $variants
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                enumeration(&Self::variants())
            }
        }

        impl ToSchema for $name {}
    };
}

enum_schema!(
    PaymentMethod = kontor_domain::order::PaymentMethod {
        Prepayment,
        Invoice,
        CashOnDelivery
    }
);
enum_schema!(Language = kontor_domain::order::Language { De, En });
enum_schema!(
    OrderStatus = kontor_domain::order::OrderStatus {
        Open,
        Completed,
        Cancelled
    }
);
enum_schema!(
    PaymentStatus = kontor_domain::order::PaymentStatus {
        Pending,
        PartiallyPaid,
        Paid,
        PartiallyRefunded,
        Refunded
    }
);
enum_schema!(
    ShippingStatus = kontor_domain::order::ShippingStatus {
        NotShipped,
        PartiallyShipped,
        Shipped,
        PartiallyDelivered,
        Delivered
    }
);
enum_schema!(
    ReturnStatus = kontor_domain::returns::ReturnStatus {
        Requested,
        Approved,
        Rejected,
        Received,
        Refunded,
        Closed
    }
);
enum_schema!(ReturnAction = kontor_domain::returns::ReturnAction, ALL);
enum_schema!(Carrier = kontor_domain::carrier::Carrier, ALL);
enum_schema!(
    ShipmentStatus = kontor_domain::shipment::ShipmentStatus,
    ALL
);

/// Adds each schema of this module to the document's components: utoipa
/// collects the schemas request and answer bodies name, not those only a
/// query parameter names (`return_status`), whose references would dangle.
pub fn add_components(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    let schemas = [
        (Quantity::name(), Quantity::schema()),
        (Sku::name(), Sku::schema()),
        (TextLine::name(), TextLine::schema()),
        (NoteText::name(), NoteText::schema()),
        (CountryCode::name(), CountryCode::schema()),
        (TrackingNumber::name(), TrackingNumber::schema()),
        (LineId::name(), LineId::schema()),
        (Amount::name(), Amount::schema()),
        (AmountOrEmpty::name(), AmountOrEmpty::schema()),
        (Email::name(), Email::schema()),
        (PaymentMethod::name(), PaymentMethod::schema()),
        (Language::name(), Language::schema()),
        (OrderStatus::name(), OrderStatus::schema()),
        (PaymentStatus::name(), PaymentStatus::schema()),
        (ShippingStatus::name(), ShippingStatus::schema()),
        (ReturnStatus::name(), ReturnStatus::schema()),
        (ReturnAction::name(), ReturnAction::schema()),
        (Carrier::name(), Carrier::schema()),
        (ShipmentStatus::name(), ShipmentStatus::schema()),
    ];
    for (name, schema) in schemas {
        components
            .schemas
            .entry(name.into_owned())
            .or_insert(schema);
    }
}

#[cfg(test)]
mod tests;
