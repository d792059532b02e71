//! The tracking-number formats carriers print, and their check digits.
//!
//! Staff type or paste numbers off labels; a mistyped digit would send
//! the customer a link to somebody else's parcel, or to none. So a number
//! staff enter for a carrier must have one of the shapes that carrier
//! prints, and where the format defines a check digit it must add up.
//! Messages from carriers are not held to this: they name parcels Kontor
//! already knows, and a number Kontor does not know is acknowledged as
//! unknown (see the tracking-update function).
//!
//! The check-digit rules, each from the format's owner:
//! - SSCC (the DHL "NVE", `00` + 18 digits): GS1 modulo 10, weights 3
//!   and 1 from the right (GS1 General Specifications, 7.9.1).
//! - UPU S10 (`RR123456785DE`): weights 8 6 4 2 3 5 9 7 modulo 11,
//!   remainder 0 → 5, remainder 1 → 0 (UPU standard S10).
//! - UPS `1Z…`: the 15 characters after `1Z`, letters as `(code − 3) mod 10`,
//!   every second one doubled, modulo 10.
//! - DHL Express waybill (10 digits): the first nine modulo 7.
//! - DPD parcel number with its check character (15): ISO/IEC 7064
//!   MOD 37,36 over the 14 digits (DPD parcel label specification).
//! - GLS parcel number (12 digits): weights 3 and 1 from the left over the
//!   first 11, plus 1, modulo 10 (GLS Uni-Box documentation, 3.2.1).
//!
//! Hermes, the 12-digit DHL Paket number and DPD's bare 14 digits define
//! no check digit we could confirm; their shape alone is checked.

use std::fmt;

use super::{Carrier, TrackingNumber};

/// A number that is not one its carrier prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("the check digit of this {format} number is wrong: with these digits it would be {expected}; please check the number on the label")]
    CheckDigit { format: Format, expected: char },
    #[error("'{number}' is not a {carrier} tracking number: {carrier} numbers are {shapes}")]
    UnknownShape {
        number: String,
        carrier: Carrier,
        shapes: &'static str,
    },
}

/// The formats Kontor recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `00` + the 18-digit Serial Shipping Container Code (DHL's NVE).
    Sscc,
    /// DHL Paket's 12 digits.
    DhlPaket,
    /// A DHL Express waybill: 10 digits, the last one the first nine mod 7.
    DhlExpressWaybill,
    /// A DHL Express piece id: `J` and two or three letters, then digits.
    DhlPieceId,
    /// A UPU S10 item number: two letters, eight digits, a check digit and
    /// the country (`RR123456785DE`).
    UpuS10,
    /// UPS: `1Z`, 15 letters or digits, and a check digit.
    Ups1Z,
    /// DPD's 14-digit parcel number, as tracked.
    DpdParcel,
    /// DPD's parcel number with the check character its label prints.
    DpdParcelChecked,
    /// GLS: the 11-digit parcel number with its check digit.
    GlsParcel,
    /// GLS: the 11 digits without the check digit.
    GlsParcelBare,
    /// GLS: the 8-character track id.
    GlsTrackId,
    /// Hermes: 11 to 20 digits, or `H` and 15 to 19 letters or digits.
    Hermes,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Sscc => "DHL NVE (SSCC)",
            Format::DhlPaket => "DHL Paket",
            Format::DhlExpressWaybill => "DHL Express waybill",
            Format::DhlPieceId => "DHL Express piece",
            Format::UpuS10 => "postal (UPU S10)",
            Format::Ups1Z => "UPS",
            Format::DpdParcel | Format::DpdParcelChecked => "DPD",
            Format::GlsParcel | Format::GlsParcelBare | Format::GlsTrackId => "GLS",
            Format::Hermes => "Hermes",
        })
    }
}

impl Carrier {
    /// The shapes this carrier's numbers take, for the refusal's words.
    fn shapes(self) -> &'static str {
        match self {
            Carrier::Dhl => "20 digits starting 00, 12 digits, a 10-digit Express waybill, JJD… piece ids, or postal numbers like RR123456785DE",
            Carrier::Dpd => "14 digits, optionally followed by the label's check character",
            Carrier::Ups => "1Z followed by 16 letters and digits",
            Carrier::Gls => "11 or 12 digits, or an 8-character track id",
            Carrier::Hermes => "11 to 20 digits, or H followed by 15 to 19 letters and digits",
            Carrier::Other => "any letters and digits",
        }
    }

    /// Checks a number staff enter for this carrier: its format, and the
    /// check digit where the format has one. Answers the format it is.
    pub fn check_number(self, number: &TrackingNumber) -> Result<Option<Format>, NumberError> {
        let text = number.as_str();
        let candidates: &[Format] = match self {
            Carrier::Dhl => &[
                Format::Sscc,
                Format::DhlPaket,
                Format::DhlExpressWaybill,
                Format::DhlPieceId,
                Format::UpuS10,
            ],
            Carrier::Dpd => &[Format::DpdParcel, Format::DpdParcelChecked],
            Carrier::Ups => &[Format::Ups1Z],
            Carrier::Gls => &[Format::GlsParcel, Format::GlsParcelBare, Format::GlsTrackId],
            Carrier::Hermes => &[Format::Hermes],
            // Any carrier may hand over a postal item; its check digit is
            // checked, everything else is the carrier's own business.
            Carrier::Other => {
                return match Format::UpuS10.check(text) {
                    Some(result) => result.map(Some),
                    None => Ok(None),
                }
            }
        };
        for format in candidates {
            if let Some(result) = format.check(text) {
                return result.map(Some);
            }
        }
        Err(NumberError::UnknownShape {
            number: text.to_string(),
            carrier: self,
            shapes: self.shapes(),
        })
    }
}

impl Format {
    /// `None` if the text does not have this format's shape; otherwise
    /// whether its check digit (if it has one) adds up.
    fn check(self, text: &str) -> Option<Result<Format, NumberError>> {
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        let letters =
            |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_uppercase);
        let len = bytes.len();
        let checked = |expected: char, given: u8| {
            if expected as u32 == u32::from(given) {
                Ok(self)
            } else {
                Err(NumberError::CheckDigit {
                    format: self,
                    expected,
                })
            }
        };
        match self {
            Format::Sscc if len == 20 && digits(0..20) && text.starts_with("00") => Some(checked(
                digit_char(gs1_check_digit(&bytes[2..19])),
                bytes[19],
            )),
            Format::DhlPaket if len == 12 && digits(0..12) => Some(Ok(self)),
            Format::DhlExpressWaybill if len == 10 && digits(0..10) => {
                Some(checked(digit_char(mod7_check_digit(&bytes[..9])), bytes[9]))
            }
            Format::DhlPieceId
                if (13..=30).contains(&len)
                    && bytes[0] == b'J'
                    && letters(1..3)
                    && bytes[3..].iter().all(u8::is_ascii_alphanumeric)
                    && bytes[len - 9..].iter().all(u8::is_ascii_digit) =>
            {
                Some(Ok(self))
            }
            Format::UpuS10 if len == 13 && letters(0..2) && digits(2..11) && letters(11..13) => {
                Some(checked(
                    digit_char(s10_check_digit(&bytes[2..10])),
                    bytes[10],
                ))
            }
            Format::Ups1Z
                if len == 18
                    && text.starts_with("1Z")
                    && bytes[2..17].iter().all(u8::is_ascii_alphanumeric)
                    && bytes[17].is_ascii_digit() =>
            {
                Some(checked(
                    digit_char(ups_check_digit(&bytes[2..17])),
                    bytes[17],
                ))
            }
            Format::DpdParcel if len == 14 && digits(0..14) => Some(Ok(self)),
            Format::DpdParcelChecked
                if len == 15 && digits(0..14) && bytes[14].is_ascii_alphanumeric() =>
            {
                Some(checked(iso7064_mod37_36(&bytes[..14]), bytes[14]))
            }
            Format::GlsParcel if len == 12 && digits(0..12) => Some(checked(
                digit_char(gls_check_digit(&bytes[..11])),
                bytes[11],
            )),
            Format::GlsParcelBare if len == 11 && digits(0..11) => Some(Ok(self)),
            Format::GlsTrackId
                if len == 8 && bytes.iter().all(u8::is_ascii_alphanumeric) && !digits(0..8) =>
            {
                Some(Ok(self))
            }
            Format::Hermes
                if ((11..=20).contains(&len) && digits(0..len))
                    || ((16..=20).contains(&len)
                        && bytes[0] == b'H'
                        && bytes[1..].iter().all(u8::is_ascii_alphanumeric)) =>
            {
                Some(Ok(self))
            }
            _ => None,
        }
    }
}

fn digit_char(digit: u8) -> char {
    char::from(b'0' + digit)
}

fn value(byte: u8) -> u32 {
    u32::from(byte - b'0')
}

/// GS1's modulo 10 check digit: weights 3 and 1 alternating from the
/// rightmost digit.
pub fn gs1_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| value(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// UPU S10's check digit over the eight serial digits.
pub fn s10_check_digit(digits: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| value(*d) * w).sum();
    match sum % 11 {
        0 => 5,
        1 => 0,
        remainder => (11 - remainder) as u8,
    }
}

/// UPS's check digit over the 15 characters after `1Z`.
pub fn ups_check_digit(characters: &[u8]) -> u8 {
    let sum: u32 = characters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = if c.is_ascii_digit() {
                value(*c)
            } else {
                (u32::from(*c) - 3) % 10
            };
            if i % 2 == 1 {
                v * 2
            } else {
                v
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// DHL Express's waybill check digit: the serial modulo 7.
pub fn mod7_check_digit(digits: &[u8]) -> u8 {
    let remainder = digits
        .iter()
        .fold(0u32, |acc, d| (acc * 10 + value(*d)) % 7);
    remainder as u8
}

/// GLS's check digit over the 11-digit parcel number.
pub fn gls_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| value(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - (sum + 1) % 10) % 10) as u8
}

/// ISO/IEC 7064 MOD 37,36 over digits and upper-case letters: the check
/// character DPD prints after the parcel number.
pub fn iso7064_mod37_36(characters: &[u8]) -> char {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut product = 36u32;
    for c in characters {
        let v = ALPHABET.iter().position(|a| a == c).unwrap_or(0) as u32;
        let mut sum = (product + v) % 36;
        if sum == 0 {
            sum = 36;
        }
        product = (sum * 2) % 37;
    }
    let check = (37 - product) % 36;
    char::from(ALPHABET[check as usize])
}

#[cfg(test)]
mod tests;
