//! Values parsed once at the edge of the system.
//!
//! Each type here can only be built through its `parse` (or `TryFrom`), so
//! code that holds one never has to check it again. Serde goes through the
//! same parser, which lets a request body fail with the name of the field.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was refused; the message is meant for the API's caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::types::ParseError;
            fn try_from(value: String) -> Result<Self, $crate::types::ParseError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// For the other modules' text types (`rules::Handle`, `rules::CouponCode`).
pub(crate) use string_newtype;

string_newtype!(
    /// A stock keeping unit: 1 to 64 characters of upper-case letters, digits,
    /// `-`, `_` and `.`. Lower case is folded to upper case, so `tr-chino`
    /// and `TR-CHINO` name the same product.
    Sku
);

impl Sku {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim().to_ascii_uppercase();
        if value.is_empty() || value.len() > 64 {
            return Err(ParseError("a sku has 1 to 64 characters".into()));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ParseError(
                "a sku has only letters, digits, '-', '_' and '.'".into(),
            ));
        }
        Ok(Self(value))
    }
}

string_newtype!(
    /// An ISO 3166-1 alpha-2 country code, stored in upper case.
    CountryCode
);

/// Every officially assigned ISO 3166-1 alpha-2 code, two letters each.
const ISO_3166_ALPHA2: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY\
HKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ\
NANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ\
TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

impl CountryCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim().to_ascii_uppercase();
        let known = value.len() == 2
            && value.chars().all(|c| c.is_ascii_uppercase())
            && ISO_3166_ALPHA2
                .as_bytes()
                .chunks(2)
                .any(|code| code == value.as_bytes());
        if known {
            Ok(Self(value))
        } else {
            Err(ParseError(format!(
                "'{}' is not an ISO 3166-1 alpha-2 country code",
                input.trim()
            )))
        }
    }
}

string_newtype!(
    /// An e-mail address: one `@`, a local part, a domain with a dot, no
    /// spaces, at most 254 characters. The domain is folded to lower case; the
    /// local part is kept as written, since servers may treat it as case-sensitive.
    Email
);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim();
        let invalid = || ParseError(format!("'{value}' is not an e-mail address"));
        if value.is_empty() {
            return Err(ParseError("an e-mail address is required".into()));
        }
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address folded to lower case, for lookups that must find an
    /// address however the shopper typed it.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The mailbox behind the address, for counting a person's orders:
    /// folded to lower case, without a `+tag` (`anna+shop@…` is Anna), and
    /// for Gmail without the dots it ignores. Rules such as "new customers
    /// only" count by it, so spelling one's address differently does not
    /// make one new again.
    pub fn mailbox(&self) -> String {
        let lower = self.normalized();
        let Some((local, domain)) = lower.rsplit_once('@') else {
            return lower;
        };
        let local = local.split('+').next().unwrap_or(local);
        let (local, domain) = match domain {
            "gmail.com" | "googlemail.com" => (local.replace('.', ""), "gmail.com"),
            _ => (local.to_string(), domain),
        };
        format!("{local}@{domain}")
    }
}

string_newtype!(
    /// One line of human text, such as a name, a street or a city: 1 to 200
    /// characters after trimming, no control characters.
    TextLine
);

impl TextLine {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim();
        if value.is_empty() {
            return Err(ParseError("must not be empty".into()));
        }
        if value.chars().count() > 200 {
            return Err(ParseError("must be at most 200 characters".into()));
        }
        if value.chars().any(char::is_control) {
            return Err(ParseError("must not contain control characters".into()));
        }
        Ok(Self(value.to_string()))
    }
}

string_newtype!(
    /// The text of a note on an order: 1 to 5,000 characters after
    /// trimming; line breaks allowed, other control characters not.
    NoteText
);

impl NoteText {
    pub const MAX_CHARS: usize = 5_000;

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim();
        if value.is_empty() {
            return Err(ParseError("must not be empty".into()));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(ParseError("must be at most 5,000 characters".into()));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(ParseError("must not contain control characters".into()));
        }
        Ok(Self(value.to_string()))
    }
}

/// A quantity of one product on a line: 1 to 999 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 999;

    pub fn new(value: u32) -> Result<Self, ParseError> {
        Self::try_from(i64::from(value))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ParseError;
    fn try_from(value: i64) -> Result<Self, ParseError> {
        if (1..=i64::from(Self::MAX)).contains(&value) {
            Ok(Self(value as u32))
        } else {
            Err(ParseError(format!(
                "a quantity is between 1 and {}, not {value}",
                Self::MAX
            )))
        }
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> u32 {
        value.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        string_newtype!($(#[$meta])* $name);

        impl $name {
            /// Ids are opaque, but they travel in URLs and keys, so they are
            /// kept to 1–64 URL-safe characters.
            pub fn parse(input: &str) -> Result<Self, ParseError> {
                let ok = !input.is_empty()
                    && input.len() <= 64
                    && input
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if ok {
                    Ok(Self(input.to_string()))
                } else {
                    Err(ParseError(format!("'{input}' is not a valid id")))
                }
            }
        }
    };
}

id_newtype!(
    /// The opaque id of an order, used in URLs.
    OrderId
);
id_newtype!(
    /// The id of an order line: what shipments and returns name.
    LineId
);

impl LineId {
    /// The `n`th line's id, `L<n>`: always a valid id, so it needs no
    /// parsing (placing an order numbers its lines, adding one numbers on).
    pub fn numbered(n: u32) -> Self {
        Self(format!("L{n}"))
    }

    /// The number in an id made by [`LineId::numbered`].
    pub fn number(&self) -> Option<u32> {
        self.0.strip_prefix('L')?.parse().ok()
    }
}
id_newtype!(
    /// The id of an event; consumers use it to apply each event once.
    EventId
);
id_newtype!(
    /// The human order number shown to shoppers, such as `K-7F3K-9QX2`.
    OrderNumber
);
id_newtype!(
    /// A signed-in shopper: the identity provider's subject (`sub`).
    CustomerId
);

#[cfg(test)]
mod tests {

    #[test]
    fn a_mailbox_ignores_case_tags_and_gmail_dots() {
        let mailbox = |text: &str| Email::parse(text).unwrap().mailbox();
        assert_eq!(mailbox("Anna+Shop@Example.DE"), "anna@example.de");
        assert_eq!(mailbox("a.n.na@googlemail.com"), "anna@gmail.com");
        assert_eq!(mailbox("a.nna@example.de"), "a.nna@example.de");
    }
    use super::*;

    #[test]
    fn skus_are_folded_and_checked() {
        assert_eq!(Sku::parse(" tr-chino-32 ").unwrap().as_str(), "TR-CHINO-32");
        for bad in ["", "A B", "ÄB", &"X".repeat(65), "a/b"] {
            assert!(Sku::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn quantities_are_between_one_and_999() {
        assert!(Quantity::try_from(0).is_err());
        assert!(Quantity::try_from(-1).is_err());
        assert!(Quantity::try_from(1000).is_err());
        assert!(Quantity::try_from(10000).is_err());
        assert_eq!(Quantity::try_from(1).unwrap().get(), 1);
        assert_eq!(Quantity::try_from(999).unwrap().get(), 999);
    }

    #[test]
    fn country_codes_come_from_iso_3166() {
        assert_eq!(CountryCode::parse("de").unwrap().as_str(), "DE");
        for good in ["AT", "CH", "US", "ZW", "AD", "GB"] {
            assert!(CountryCode::parse(good).is_ok(), "{good}");
        }
        for bad in ["XX", "D", "DEU", "", "UK", "1A"] {
            assert!(
                CountryCode::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn iso_table_is_well_formed() {
        assert_eq!(ISO_3166_ALPHA2.len() % 2, 0);
        let codes: Vec<&[u8]> = ISO_3166_ALPHA2.as_bytes().chunks(2).collect();
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "codes are sorted and unique"
        );
        assert_eq!(codes.len(), 249);
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(
            Email::parse("Anna.Muster@Example.DE").unwrap().as_str(),
            "Anna.Muster@example.de"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.de",
            "anna@example",
            "an na@example.de",
            "anna@exa..mple.de",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn serde_uses_the_parsers() {
        assert!(serde_json::from_str::<Quantity>("0").is_err());
        assert!(serde_json::from_str::<Quantity>("1.5").is_err());
        assert_eq!(serde_json::from_str::<Quantity>("3").unwrap().get(), 3);
        assert!(serde_json::from_str::<Sku>("\"a b\"").is_err());
    }
}
