//! The answers every operation may give besides its own, added to the
//! OpenAPI document once rather than repeated on every handler: a request
//! that is not JSON (415) or cannot be read or is not the shape asked for
//! (400, a body too large included), a field it refuses (422), a caller without a token (401) or without the right
//! (403), too many requests (429: the local runtime's per-client limits,
//! API Gateway's throttling), and a bug (500, with a correlation id). Each
//! is a problem document. An operation that documents one of these itself
//! keeps its own description.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

use crate::problem::PROBLEM_JSON;

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Adds the common answers to every operation of `openapi`.
pub fn add_common_responses(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let signed_in = path.starts_with("/admin/") || path.starts_with("/me/");
        let staff_only = path.starts_with("/admin/");
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_to(operation, signed_in, staff_only);
        }
    }
}

fn add_to(operation: &mut Operation, signed_in: bool, staff_only: bool) {
    let has_body = operation.request_body.is_some();
    let mut common = vec![
        (
            "400",
            "A malformed request: a path, query or body that cannot be read.",
        ),
        (
            "429",
            "Too many requests from this client; `Retry-After` says when to try again.",
        ),
        (
            "500",
            "A bug: the answer carries only a correlation id, which the logs carry too.",
        ),
    ];
    if has_body {
        common.push(("415", "The body is not `application/json`."));
        common.push((
            "422",
            "A field is missing, unknown or not acceptable; `field` names it.",
        ));
    }
    if signed_in {
        common.push(("401", "No valid token."));
    }
    if staff_only {
        common.push(("403", "The token is not a staff member's."));
    }
    for (status, description) in common {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    }
    add_next_link(operation);
}

/// A list that takes a `cursor` (`crate::page`) may answer a `Link` to its
/// next page.
fn add_next_link(operation: &mut Operation) {
    let pages = operation.parameters.iter().flatten().any(|parameter| {
        parameter.name == "cursor" && parameter.parameter_in == ParameterIn::Query
    });
    if !pages {
        return;
    }
    if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
        ok.headers.insert(
            "Link".to_string(),
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(SchemaType::new(Type::String))
                        .pattern(Some(r#"^<\?[^>]*cursor=[^>]*>; rel="next"$"#)),
                )
                .description(Some(
                    "When more follow: `<?…&cursor=…>; rel=\"next\"`, this request with the next page's cursor.",
                ))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    #[test]
    fn every_operation_gets_the_answers_it_can_give() {
        let with_body = OperationBuilder::new()
            .request_body(Some(RequestBodyBuilder::new().build()))
            .response("400", ResponseBuilder::new().description("own").build())
            .build();
        let mut openapi = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/admin/things", PathItem::new(HttpMethod::Post, with_body))
                    .path(
                        "/catalog/things",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
                    ),
            )
            .build();
        add_common_responses(&mut openapi);
        let codes = |path: &str, method: fn(&PathItem) -> &Option<Operation>| {
            let operation = method(&openapi.paths.paths[path]).as_ref().unwrap();
            operation
                .responses
                .responses
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes("/admin/things", |item| &item.post),
            ["400", "401", "403", "415", "422", "429", "500"]
        );
        assert_eq!(
            codes("/catalog/things", |item| &item.get),
            ["400", "429", "500"]
        );
        let own = &openapi.paths.paths["/admin/things"]
            .post
            .as_ref()
            .unwrap()
            .responses
            .responses["400"];
        let RefOr::T(own) = own else {
            panic!("a response")
        };
        assert_eq!(
            own.description, "own",
            "an operation's own description stays"
        );
    }
}
