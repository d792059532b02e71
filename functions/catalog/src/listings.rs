//! The catalog's listings, kept serialised in the process while the
//! catalog stays as it was.
//!
//! Every shopper's page lists products: reading the whole catalog and
//! serialising it again for each request was most of what the runtime did
//! under load. Where the store knows, without I/O, whether any product or
//! stock changed since (`CatalogStore::catalog_stamp`: the embedded store,
//! which sees every write), a listing is answered from the bytes made at
//! the same stamp. Elsewhere (DynamoDB, where other containers write) every
//! request reads the store; CloudFront caches the catalog there.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use axum::body::Bytes;
use axum::http::HeaderValue;

/// How many different listings (search text and category) are kept; past
/// that the oldest stamp's entries go first, so odd searches cannot grow
/// the memory.
const MAX_LISTINGS: usize = 64;

/// A listing's search: its text and its category, as the request gave them.
pub type ListingKey = (Option<String>, Option<String>);

struct Listing {
    stamp: u64,
    json: Bytes,
    etag: HeaderValue,
}

/// A listing's JSON and its validator (`kontor_http::validators::validator`
/// of the bytes, made once when it was kept).
pub type Kept = (Bytes, HeaderValue);

static LISTINGS: LazyLock<Mutex<HashMap<ListingKey, Listing>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The listing made at `stamp`, if it is kept.
pub fn cached(key: &ListingKey, stamp: u64) -> Option<Kept> {
    let listings = LISTINGS.lock().ok()?;
    listings
        .get(key)
        .filter(|listing| listing.stamp == stamp)
        .map(|listing| (listing.json.clone(), listing.etag.clone()))
}

/// Keeps `json` as the listing made at `stamp` (the stamp read before the
/// catalog was).
pub fn keep(key: ListingKey, stamp: u64, json: Bytes, etag: HeaderValue) {
    let Ok(mut listings) = LISTINGS.lock() else {
        return;
    };
    if listings.len() >= MAX_LISTINGS && !listings.contains_key(&key) {
        // Entries of an older stamp are out of date anyway; when all are
        // current, start over.
        listings.retain(|_, listing| listing.stamp == stamp);
        if listings.len() >= MAX_LISTINGS {
            listings.clear();
        }
    }
    listings.insert(key, Listing { stamp, json, etag });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_kept_for_its_stamp_only_and_the_cache_stays_bounded() {
        let key = |n: usize| (Some(format!("word{n}")), None);
        let tag = HeaderValue::from_static("W/\"0\"");
        keep(key(0), 7, Bytes::from_static(b"[0]"), tag.clone());
        assert_eq!(
            cached(&key(0), 7),
            Some((Bytes::from_static(b"[0]"), tag.clone()))
        );
        assert_eq!(cached(&key(0), 8), None, "a newer stamp: made again");
        for n in 1..=(MAX_LISTINGS * 3) {
            keep(key(n), 9, Bytes::from_static(b"[]"), tag.clone());
        }
        assert!(LISTINGS.lock().unwrap().len() <= MAX_LISTINGS);
    }
}
