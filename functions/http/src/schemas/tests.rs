//! Each pattern against the parser it describes: for the exact ones a
//! string matches exactly when the domain takes it; for the looser ones
//! every string the domain takes matches (the operation refuses the rest).

use std::str::FromStr;

use proptest::prelude::*;
use regex::{Regex, RegexBuilder};
use rust_decimal::Decimal;

use super::*;

/// The note pattern repeats a class 4,998 times: compiled once.
fn note_regex() -> &'static Regex {
    static NOTE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    NOTE.get_or_init(|| compiled(&note_text_pattern()))
}

fn compiled(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .size_limit(1 << 28)
        .build()
        .expect("the pattern compiles")
}

/// Strings made of the characters each rule is about: letters, digits,
/// the punctuation the types allow, every kind of space Rust trims, the
/// separators Python calls spaces but Rust does not (U+001C–U+001F),
/// control characters and non-ASCII text.
fn text(max_len: usize) -> impl Strategy<Value = String> {
    let alphabet = prop_oneof![
        6 => proptest::sample::select(vec!['a', 'Z', 'q', '0', '7', 'é', 'ß', '€', '中']),
        2 => proptest::sample::select(vec!['-', '_', '.', '@', '+', ',', '\'']),
        2 => proptest::sample::select(vec![
            ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{1680}',
            '\u{2000}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
        ]),
        1 => proptest::sample::select(vec![
            '\u{0}', '\u{7}', '\u{1c}', '\u{1f}', '\u{7f}', '\u{9f}', '\u{200b}', '\u{feff}',
        ]),
    ];
    proptest::collection::vec(alphabet, 0..=max_len).prop_map(|chars| chars.into_iter().collect())
}

/// A run of `n` letters inside `padding` on both sides: the length bounds.
fn padded(n: usize, padding: &str) -> String {
    format!("{padding}{}{padding}", "x".repeat(n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn text_lines_match_exactly_what_the_domain_takes(input in text(210)) {
        let matches = compiled(&text_line_pattern()).is_match(&input);
        prop_assert_eq!(matches, kontor_domain::TextLine::parse(&input).is_ok(), "{:?}", input);
    }

    #[test]
    fn skus_match_exactly_what_the_domain_takes(input in text(70)) {
        let matches = compiled(&sku_pattern()).is_match(&input);
        prop_assert_eq!(matches, kontor_domain::Sku::parse(&input).is_ok(), "{:?}", input);
    }

    #[test]
    fn tracking_numbers_match_exactly_what_the_domain_takes(input in text(50)) {
        let matches = compiled(TRACKING_NUMBER_PATTERN).is_match(&input);
        prop_assert_eq!(matches, kontor_domain::carrier::TrackingNumber::parse(&input).is_ok(), "{:?}", input);
    }

    #[test]
    fn short_notes_match_exactly_what_the_domain_takes(input in text(60)) {
        let matches = note_regex().is_match(&input);
        prop_assert_eq!(matches, kontor_domain::NoteText::parse(&input).is_ok(), "{:?}", input);
    }

    #[test]
    fn line_ids_match_exactly_what_the_domain_takes(input in text(70)) {
        let matches = compiled(ID_PATTERN).is_match(&input);
        prop_assert_eq!(matches, kontor_domain::LineId::parse(&input).is_ok(), "{:?}", input);
    }

    #[test]
    fn every_country_code_the_domain_takes_matches(input in text(4)) {
        if kontor_domain::CountryCode::parse(&input).is_ok() {
            prop_assert!(compiled(&country_pattern()).is_match(&input), "{:?}", input);
        }
    }

    #[test]
    fn every_e_mail_address_the_domain_takes_matches(input in text(30)) {
        if kontor_domain::Email::parse(&input).is_ok() {
            prop_assert!(compiled(&email_pattern()).is_match(&input), "{:?}", input);
        }
    }
}

/// What `rust_decimal::serde::str` reads: the plain form, then the
/// scientific one.
fn read_as_serde_does(input: &str) -> bool {
    Decimal::from_str(input)
        .or_else(|_| Decimal::from_scientific(input))
        .is_ok()
}

/// Every string of up to six characters that could make a number: it
/// matches exactly when `rust_decimal` reads it (exponents and `_`
/// included). Longer ones may match and still be too large (422).
#[test]
fn every_amount_the_server_reads_matches() {
    let alphabet = ['0', '1', '.', '_', '+', '-', 'e', 'E', ' '];
    let amount = compiled(DECIMAL_PATTERN);
    let mut strings = vec![String::new()];
    for _ in 0..6 {
        strings = strings
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        for input in &strings {
            assert_eq!(
                amount.is_match(input),
                read_as_serde_does(input),
                "{input:?}"
            );
        }
    }
}

#[test]
fn the_length_bounds_count_characters_after_trimming() {
    let line = compiled(&text_line_pattern());
    let note = note_regex();
    for padding in ["", " ", "\n\u{3000}"] {
        for n in [1, 2, 199, 200, 201] {
            let input = padded(n, padding);
            assert_eq!(
                line.is_match(&input),
                kontor_domain::TextLine::parse(&input).is_ok(),
                "{n} {padding:?}"
            );
        }
        for n in [1, 4_999, 5_000, 5_001] {
            let input = padded(n, padding);
            assert_eq!(
                note.is_match(&input),
                kontor_domain::NoteText::parse(&input).is_ok(),
                "{n} {padding:?}"
            );
        }
    }
    let sku = compiled(&sku_pattern());
    for n in [64, 65] {
        assert_eq!(sku.is_match(&padded(n, " ")), n <= 64);
    }
}

#[test]
fn quantities_are_bounded_as_the_domain_bounds_them() {
    let quantity = serde_json::to_value(Quantity::schema()).expect("a schema is JSON");
    assert_eq!(quantity["minimum"], 1);
    assert_eq!(quantity["maximum"], 999);
    assert!(kontor_domain::Quantity::new(999).is_ok());
    assert!(kontor_domain::Quantity::new(1_000).is_err());
    assert!(kontor_domain::Quantity::new(0).is_err());
}

#[test]
fn idempotency_keys_are_visible_ascii() {
    let key = compiled(IDEMPOTENCY_KEY_PATTERN);
    assert!(key.is_match("a"));
    assert!(key.is_match(&"~".repeat(255)));
    assert!(!key.is_match(&"k".repeat(256)));
    assert!(!key.is_match("two words"));
    assert!(!key.is_match("schlüssel"));
}

/// Every name an enumeration lists is read back as the variant it came
/// from, so the document lists exactly the words the server takes.
#[test]
fn enumerations_list_the_words_serde_reads() {
    fn check<T>(variants: Vec<T>, schema: RefOr<Schema>)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let schema = serde_json::to_value(schema).expect("a schema is JSON");
        let names = schema["enum"].as_array().expect("an enumeration");
        assert_eq!(names.len(), variants.len());
        for (name, variant) in names.iter().zip(variants) {
            let read: T = serde_json::from_value(name.clone()).expect("a listed word is read");
            assert_eq!(read, variant);
        }
    }
    check(PaymentMethod::variants(), PaymentMethod::schema());
    check(Language::variants(), Language::schema());
    check(OrderStatus::variants(), OrderStatus::schema());
    check(PaymentStatus::variants(), PaymentStatus::schema());
    check(ShippingStatus::variants(), ShippingStatus::schema());
    check(ReturnStatus::variants(), ReturnStatus::schema());
    check(ReturnAction::variants(), ReturnAction::schema());
    check(Carrier::variants(), Carrier::schema());
    check(ShipmentStatus::variants(), ShipmentStatus::schema());
}
