//! Who is calling: the claims of a verified token, as handlers see them.
//!
//! Handlers never read tokens. In AWS the HTTP API's JWT authorizer checks
//! the token and puts its claims into the request context, and
//! `kontor_lambda::claims_from_lambda_context` copies them into the
//! request's extensions;
//! locally the runtime checks its own tokens and puts the same [`Claims`]
//! there. The extractors then answer 401 when a route needs a caller and
//! has none, and 403 when a staff route is called by a shopper.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use kontor_domain::actor::Actor;
use kontor_domain::{CustomerId, Email};

use crate::problem::Problem;

/// The group whose members may use the admin routes.
pub const STAFF_GROUP: &str = "staff";

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The identity provider's subject, which is also the customer id.
    pub subject: CustomerId,
    pub email: Option<Email>,
    pub groups: Vec<String>,
}

impl Claims {
    pub fn is_staff(&self) -> bool {
        self.groups.iter().any(|g| g == STAFF_GROUP)
    }

    /// The caller acting as staff (on an admin route), named in the
    /// order's history by e-mail (their subject when the token has none).
    pub fn staff_actor(&self) -> Actor {
        Actor::Staff {
            email: self
                .email
                .as_ref()
                .map_or_else(|| self.subject.to_string(), ToString::to_string),
        }
    }

    /// The caller acting as the customer they are (on a `/me/` route),
    /// whatever groups they are in.
    pub fn customer_actor(&self) -> Actor {
        Actor::Customer {
            id: self.subject.clone(),
        }
    }

    /// Claims as an API Gateway JWT authorizer hands them over: every value
    /// a string, and Cognito's groups as `[staff other]`. A token without a
    /// usable subject gives none (the caller is then anonymous; a route
    /// that needs a caller answers 401).
    pub fn from_authorizer(claims: &HashMap<String, String>) -> Option<Self> {
        let subject = CustomerId::parse(claims.get("sub")?).ok()?;
        let email = claims.get("email").and_then(|e| Email::parse(e).ok());
        let groups = claims
            .get("cognito:groups")
            .map(|raw| {
                raw.trim_matches(|c| c == '[' || c == ']')
                    .split([' ', ','])
                    .map(|g| g.trim_matches('"'))
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            subject,
            email,
            groups,
        })
    }
}

fn unauthenticated() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Sign-in required",
        "this route needs a signed-in caller (Authorization: Bearer <token>)",
    )
}

/// The caller, if signed in; routes open to anyone take this.
pub struct MaybeSignedIn(pub Option<Claims>);

/// A signed-in caller (shopper or staff); anonymous callers get 401.
pub struct SignedIn(pub Claims);

/// A member of the staff group; anonymous callers get 401, others 403.
pub struct Staff(pub Claims);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSignedIn {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Ok(Self(parts.extensions.get::<Claims>().cloned()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<Claims>()
            .cloned()
            .map(Self)
            .ok_or_else(unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let SignedIn(claims) = SignedIn::from_request_parts(parts, state).await?;
        if claims.is_staff() {
            Ok(Self(claims))
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Staff only",
                "this route is for shop staff",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn cognito_groups_arrive_as_one_bracketed_string() {
        let claims = Claims::from_authorizer(&authorizer(&[
            ("sub", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"),
            ("email", "Eva@Example.de"),
            ("cognito:groups", "[staff wholesale]"),
        ]))
        .unwrap();
        assert_eq!(claims.groups, ["staff", "wholesale"]);
        assert!(claims.is_staff());
        assert_eq!(claims.email.unwrap().normalized(), "eva@example.de");
    }

    #[test]
    fn a_shopper_has_no_groups_and_is_not_staff() {
        let claims = Claims::from_authorizer(&authorizer(&[("sub", "abc")])).unwrap();
        assert!(claims.groups.is_empty());
        assert!(!claims.is_staff());
        assert!(Claims::from_authorizer(&authorizer(&[("cognito:groups", "[staff]")])).is_none());
        assert!(Claims::from_authorizer(&authorizer(&[("sub", "a b/c")])).is_none());
    }
}
