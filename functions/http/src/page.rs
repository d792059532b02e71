//! Cursor pagination for every list that can grow (orders, a customer's
//! orders, credit notes, the local mail outbox).
//!
//! A list answers a JSON array of at most `limit` entries (1 to 200,
//! default 50). When more follow, the answer carries an RFC 8288 link to
//! the next page, `Link: <?…&cursor=…>; rel="next"` — a reference relative
//! to the request, with the request's own filters — so nothing is cut off
//! silently and clients that read only the array keep working. The cursor
//! names the last entry of the page (never an offset), so a page does not
//! skip or repeat entries when new ones arrive meanwhile.

use std::fmt;

use axum::http::header::LINK;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontor_domain::OrderId;
use kontor_platform::store::OrderCursor;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The most entries a page holds.
pub const MAX_PAGE: u32 = 200;
/// A page's entries when the request does not say.
pub const DEFAULT_PAGE: u32 = 50;

/// How many entries a page holds: 1 to [`MAX_PAGE`]. A number outside is
/// refused (400), not silently changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u32")]
pub struct PageLimit(u32);

impl PageLimit {
    pub fn get(self) -> usize {
        self.0 as usize
    }

    /// One more than a page: a store asked for this many tells whether
    /// another page follows.
    pub fn fetch(self) -> usize {
        self.get() + 1
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(DEFAULT_PAGE)
    }
}

impl TryFrom<u32> for PageLimit {
    type Error = String;
    fn try_from(value: u32) -> Result<Self, String> {
        if (1..=MAX_PAGE).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("a page holds 1 to {MAX_PAGE} entries, not {value}"))
        }
    }
}

/// Where a list of orders goes on, as clients see it: the last order's
/// time in seconds and nanoseconds and its id, `1795867200.000000000.order-7`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct OrderPageCursor(pub OrderCursor);

impl OrderPageCursor {
    pub fn after(order: &kontor_domain::order::Order) -> Self {
        Self(OrderCursor::after(order))
    }
}

impl TryFrom<String> for OrderPageCursor {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let refused = || format!("'{value}' is not a cursor this list gave");
        let mut parts = value.splitn(3, '.');
        let (Some(seconds), Some(nanos), Some(id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        let digits = |text: &str, most: usize| {
            !text.is_empty() && text.len() <= most && text.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(seconds, 11) || nanos.len() != 9 || !digits(nanos, 9) {
            return Err(refused());
        }
        let seconds: i64 = seconds.parse().map_err(|_| refused())?;
        let nanos: i64 = nanos.parse().map_err(|_| refused())?;
        let created_at = OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|_| refused())?
            .saturating_add(time::Duration::nanoseconds(nanos));
        let id = OrderId::parse(id).map_err(|_| refused())?;
        Ok(Self(OrderCursor { created_at, id }))
    }
}

impl fmt::Display for OrderPageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.0.created_at;
        write!(
            f,
            "{}.{:09}.{}",
            at.unix_timestamp(),
            at.nanosecond(),
            self.0.id
        )
    }
}

/// The document's view of an order list's cursor: exactly what
/// [`OrderPageCursor`] reads (the year-5138 bound of 11 digits of seconds
/// keeps every one a valid time).
pub struct OrderCursorText;

impl PartialSchema for OrderCursorText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some("The `cursor` of the `next` link of the page before."))
            .pattern(Some(r"^[0-9]{1,11}\.[0-9]{9}\.[A-Za-z0-9_-]{1,64}$"))
            .into()
    }
}

impl ToSchema for OrderCursorText {}

/// A page of a list of orders, as `/me/orders` and the credit notes ask
/// for it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderPageQuery {
    /// How many (1 to 200, default 50), newest first.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<PageLimit>,
    /// Where to go on: the `cursor` of the `next` link of the page before.
    #[param(value_type = Option<OrderCursorText>, inline)]
    pub cursor: Option<OrderPageCursor>,
}

/// A page of a list: its entries, and the cursor of the next page when
/// one follows.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
    /// The request's query, which the next link keeps (but its cursor).
    query: Option<String>,
}

impl<T> Page<T> {
    /// The page of `fetched` (read with [`PageLimit::fetch`]): its first
    /// `limit` entries, and a next cursor after the last of them if the
    /// store had more.
    pub fn of(
        mut fetched: Vec<T>,
        limit: PageLimit,
        cursor_after: impl Fn(&T) -> String,
        query: Option<String>,
    ) -> Self {
        let more = fetched.len() > limit.get();
        fetched.truncate(limit.get());
        let next = if more {
            fetched.last().map(cursor_after)
        } else {
            None
        };
        Self {
            items: fetched,
            next,
            query,
        }
    }

    /// The same page with each entry turned into its view.
    pub fn map<U>(self, view: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(view).collect(),
            next: self.next,
            query: self.query,
        }
    }

    /// The same page's place in the list, with `items` made from its
    /// entries (a page of orders answering their credit notes).
    pub fn with_items<U>(self, items: Vec<U>) -> Page<U> {
        Page {
            items,
            next: self.next,
            query: self.query,
        }
    }

    /// The `Link` header's value for the next page, if one follows.
    pub fn next_link(&self) -> Option<String> {
        let cursor = self.next.as_ref()?;
        let mut pairs: Vec<&str> = self
            .query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("cursor="))
            .collect();
        let cursor_pair = format!("cursor={cursor}");
        pairs.push(&cursor_pair);
        Some(format!("<?{}>; rel=\"next\"", pairs.join("&")))
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        // Cursors are made of URL-safe characters and the query comes from
        // a request line, so the value is always a valid header; a link
        // that were not would be left out rather than fail the answer.
        let link = self
            .next_link()
            .and_then(|link| HeaderValue::from_str(&link).ok());
        let mut response = Json(self.items).into_response();
        if let Some(link) = link {
            response.headers_mut().insert(LINK, link);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_two_hundred_are_refused() {
        assert!(PageLimit::try_from(0).is_err());
        assert!(PageLimit::try_from(201).is_err());
        assert_eq!(PageLimit::try_from(200).unwrap().get(), 200);
        assert_eq!(PageLimit::default().get(), 50);
    }

    #[test]
    fn order_cursors_read_back_what_they_wrote() {
        let cursor = OrderPageCursor(OrderCursor {
            created_at: time::macros::datetime!(2026-11-28 12:00:00.000000042 UTC),
            id: OrderId::parse("order-7").unwrap(),
        });
        let text = cursor.to_string();
        assert_eq!(text, "1795867200.000000042.order-7");
        assert_eq!(OrderPageCursor::try_from(text).unwrap(), cursor);
        for refused in [
            "",
            "1.2.x",
            "1795867200.42.order-7",
            "-1.000000000.a",
            "1.000000000.",
            "99999999999.000000000.a b",
        ] {
            assert!(
                OrderPageCursor::try_from(refused.to_string()).is_err(),
                "{refused}"
            );
        }
        // The largest the document allows is still a time.
        assert!(OrderPageCursor::try_from("99999999999.999999999.a".to_string()).is_ok());
    }

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let page = Page::of(
            vec![1, 2, 3],
            PageLimit::try_from(2).unwrap(),
            |n| format!("c{n}"),
            Some("q=berg&cursor=old&limit=2".into()),
        );
        assert_eq!(page.items, [1, 2]);
        assert_eq!(
            page.next_link().unwrap(),
            "<?q=berg&limit=2&cursor=c2>; rel=\"next\""
        );
        let last = Page::of(
            vec![1, 2],
            PageLimit::try_from(2).unwrap(),
            |n| format!("c{n}"),
            None,
        );
        assert_eq!(last.next_link(), None, "no more: no link");
    }
}
