//! The cold-start floor for `bench/cold-start.py`: a `lambda_http` function
//! that answers every request with a fixed text and does nothing at start.
//! It is built with the same profile and the same `lambda_http` as
//! Kontor's functions, so what they spend beyond it is their own.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(
        |_request: lambda_http::Request| async { Ok::<_, lambda_http::Error>("hello") },
    ))
    .await
}
