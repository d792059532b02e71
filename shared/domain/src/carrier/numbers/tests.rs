//! Known numbers from the carriers' and standards' own examples, and
//! property tests over numbers built from each format's rule, written here
//! a second time in another form so the two must agree.

use proptest::prelude::*;

use super::*;

fn number(text: &str) -> TrackingNumber {
    TrackingNumber::parse(text).unwrap()
}

fn check(carrier: Carrier, text: &str) -> Result<Option<Format>, NumberError> {
    carrier.check_number(&number(text))
}

/// Examples published with each format (the DHL and S10
/// numbers, UPS's and DPD's documentation examples, DHL Express waybills).
#[test]
fn published_examples_pass() {
    for (carrier, text, format) in [
        (Carrier::Dhl, "00340434161094042557", Format::Sscc),
        (Carrier::Dhl, "0034 0434 1610 9404 2557", Format::Sscc),
        (Carrier::Dhl, "RR123456785DE", Format::UpuS10),
        (Carrier::Dhl, "3318810025", Format::DhlExpressWaybill),
        (Carrier::Dhl, "8487135506", Format::DhlExpressWaybill),
        (Carrier::Dhl, "JJD0099999999", Format::DhlPieceId),
        (Carrier::Dhl, "340434161094", Format::DhlPaket),
        (Carrier::Other, "RB123456785GB", Format::UpuS10),
        (Carrier::Ups, "1Z999AA10123456784", Format::Ups1Z),
        (Carrier::Ups, "1Z5R89390357567127", Format::Ups1Z),
        (Carrier::Ups, "1zxx3150yw44070023", Format::Ups1Z),
        (Carrier::Dpd, "09980000020033F", Format::DpdParcelChecked),
        (Carrier::Dpd, "0998 0000 0200 34D", Format::DpdParcelChecked),
        (Carrier::Dpd, "09980000020033", Format::DpdParcel),
        (Carrier::Gls, "ZA1B2C3D", Format::GlsTrackId),
        (Carrier::Hermes, "H1001990000000001", Format::Hermes),
        (Carrier::Hermes, "12345678901234", Format::Hermes),
    ] {
        assert_eq!(check(carrier, text), Ok(Some(format)), "{carrier:?} {text}");
    }
    assert_eq!(check(Carrier::Other, "ANY-THING-42"), Ok(None));
}

#[test]
fn mistyped_numbers_are_refused_with_the_reason() {
    for (carrier, text, expected) in [
        (Carrier::Dhl, "00340434161094042558", '7'),
        (Carrier::Dhl, "RR123456786DE", '5'),
        (Carrier::Dhl, "3318810010", '4'),
        (Carrier::Other, "RB123456786US", '5'),
        (Carrier::Ups, "1Z999AA10123456785", '4'),
        (Carrier::Dpd, "09980000020033D", 'F'),
    ] {
        match check(carrier, text) {
            Err(NumberError::CheckDigit { expected: e, .. }) => {
                assert_eq!(e, expected, "{text}")
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let error = check(Carrier::Dhl, "00340434161094042558").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the check digit of this DHL NVE (SSCC) number is wrong: with these digits it would be 7; please check the number on the label"
    );
    for (carrier, text) in [
        (Carrier::Ups, "00340434161094042557"),
        (Carrier::Ups, "1Z999AA1"),
        (Carrier::Dhl, "KT00000001"),
        (Carrier::Dpd, "1Z999AA10123456784"),
        (Carrier::Gls, "12345"),
        (Carrier::Hermes, "RR123456785DE"),
    ] {
        let error = check(carrier, text).unwrap_err();
        assert!(
            matches!(error, NumberError::UnknownShape { .. }),
            "{carrier:?} {text}: {error:?}"
        );
        assert!(error.to_string().contains("is not a"), "{error}");
    }
}

/// The rules again, as their standards state them.
fn sscc(seventeen: &[u8]) -> String {
    // Positions counted from the right, starting at the check digit's
    // neighbour: odd positions weigh 3.
    let mut total = 0u32;
    for (position, digit) in seventeen.iter().rev().enumerate() {
        let weight = if position % 2 == 0 { 3 } else { 1 };
        total += u32::from(*digit) * weight;
    }
    let check = (10 - total % 10) % 10;
    let body: String = seventeen.iter().map(|d| char::from(b'0' + d)).collect();
    format!("00{body}{check}")
}

fn s10(prefix: &str, eight: &[u8], country: &str) -> String {
    let weights = [8, 6, 4, 2, 3, 5, 9, 7];
    let total: u32 = eight
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    let check = match 11 - total % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    let body: String = eight.iter().map(|d| char::from(b'0' + d)).collect();
    format!("{prefix}{body}{check}{country}")
}

fn gls(eleven: &[u8]) -> String {
    let total: u32 = eleven
        .iter()
        .zip([3, 1].iter().cycle())
        .map(|(d, w)| u32::from(*d) * w)
        .sum::<u32>()
        + 1;
    let check = (10 - total % 10) % 10;
    let body: String = eleven.iter().map(|d| char::from(b'0' + d)).collect();
    format!("{body}{check}")
}

fn ups(fifteen: &str) -> String {
    let total: u32 = fifteen
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let v = c.to_digit(10).unwrap_or_else(|| (c as u32 - 3) % 10);
            v * if i % 2 == 1 { 2 } else { 1 }
        })
        .sum();
    format!("1Z{fifteen}{}", (10 - total % 10) % 10)
}

fn dhl_express(nine: &[u8]) -> String {
    let serial: u64 = nine.iter().fold(0, |n, d| n * 10 + u64::from(*d));
    format!("{serial:09}{}", serial % 7)
}

fn with_last_replaced(text: &str, by: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    *chars.last_mut().unwrap() = by;
    chars.into_iter().collect()
}

fn digits(n: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..10, n)
}

/// A number with the last digit replaced by any other digit.
fn refuses_every_other_check_digit(carrier: Carrier, good: &str, at: usize) {
    let right = good.as_bytes()[at];
    for other in b'0'..=b'9' {
        if other == right {
            continue;
        }
        let mut bad = good.as_bytes().to_vec();
        bad[at] = other;
        let bad = String::from_utf8(bad).unwrap();
        assert!(
            matches!(check(carrier, &bad), Err(NumberError::CheckDigit { .. })),
            "{carrier:?} {bad} (from {good})"
        );
    }
}

proptest! {
    #[test]
    fn sscc_numbers_built_by_the_rule_pass(body in digits(17)) {
        let good = sscc(&body);
        prop_assert_eq!(check(Carrier::Dhl, &good), Ok(Some(Format::Sscc)));
        refuses_every_other_check_digit(Carrier::Dhl, &good, 19);
    }

    /// GS1's weights 3 and 1 catch every single mistyped digit.
    #[test]
    fn a_single_mistyped_sscc_digit_is_caught(body in digits(17), at in 2usize..19, by in 1u8..10) {
        let good = sscc(&body);
        let mut bad = good.clone().into_bytes();
        bad[at] = b'0' + (bad[at] - b'0' + by) % 10;
        let bad = String::from_utf8(bad).unwrap();
        prop_assert!(check(Carrier::Dhl, &bad).is_err(), "{}", bad);
    }

    #[test]
    fn s10_numbers_built_by_the_rule_pass(body in digits(8), prefix in "[A-Z]{2}", country in "[A-Z]{2}") {
        let good = s10(&prefix, &body, &country);
        prop_assert_eq!(check(Carrier::Dhl, &good), Ok(Some(Format::UpuS10)));
        prop_assert_eq!(check(Carrier::Other, &good), Ok(Some(Format::UpuS10)));
        refuses_every_other_check_digit(Carrier::Other, &good, 10);
    }

    #[test]
    fn gls_numbers_built_by_the_rule_pass(body in digits(11), at in 0usize..11, by in 1u8..10) {
        let good = gls(&body);
        prop_assert_eq!(check(Carrier::Gls, &good), Ok(Some(Format::GlsParcel)));
        refuses_every_other_check_digit(Carrier::Gls, &good, 11);
        let mut bad = good.clone().into_bytes();
        bad[at] = b'0' + (bad[at] - b'0' + by) % 10;
        let bad = String::from_utf8(bad).unwrap();
        prop_assert!(check(Carrier::Gls, &bad).is_err(), "{}", bad);
    }

    #[test]
    fn ups_numbers_built_by_the_rule_pass(body in "[0-9A-Z]{15}") {
        let good = ups(&body);
        prop_assert_eq!(check(Carrier::Ups, &good), Ok(Some(Format::Ups1Z)));
        refuses_every_other_check_digit(Carrier::Ups, &good, 17);
    }

    #[test]
    fn dhl_express_waybills_built_by_the_rule_pass(body in digits(9)) {
        let good = dhl_express(&body);
        prop_assert_eq!(check(Carrier::Dhl, &good), Ok(Some(Format::DhlExpressWaybill)));
        refuses_every_other_check_digit(Carrier::Dhl, &good, 9);
    }

    /// ISO 7064's own test of a hybrid system: with the check character
    /// run through the same steps, the last sum comes out at 1.
    #[test]
    fn dpd_check_characters_close_the_hybrid_system(body in digits(14)) {
        let text: String = body.iter().map(|d| char::from(b'0' + d)).collect();
        let good = format!("{text}{}", iso7064_mod37_36(text.as_bytes()));
        prop_assert_eq!(check(Carrier::Dpd, &good), Ok(Some(Format::DpdParcelChecked)));
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut product = 36u32;
        let mut last_sum = 0;
        for c in good.chars() {
            let v = alphabet.find(c).unwrap() as u32;
            last_sum = (product + v) % 36;
            product = (if last_sum == 0 { 36 } else { last_sum }) * 2 % 37;
        }
        prop_assert_eq!(last_sum, 1);
        for other in alphabet.chars().filter(|c| !good.ends_with(*c)) {
            let bad = with_last_replaced(&good, other);
            prop_assert!(check(Carrier::Dpd, &bad).is_err(), "{}", bad);
        }
    }

    /// Whatever staff type, checking answers and never panics.
    #[test]
    fn any_text_is_answered(text in "[0-9A-Z]{4,40}") {
        for carrier in Carrier::ALL {
            let _ = check(carrier, &text);
        }
    }
}
