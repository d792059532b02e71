// PARKED (not compiled: cargo builds only tests/*.rs). Every step of this
// test passes (order placed through /lambda-url/checkout, the relay publishes
// the stream's three events, the notifier sends one confirmation through SES
// and skips the repeat), but its teardown does not stop `cargo lambda watch`
// and the function processes it started; they keep the test runner's output
// pipe open, which would hang CI. Move it back to tests/ once teardown is
// fixed (see the handoff note in docs/handoff.md).

//! End to end on the AWS side: the functions as Lambdas under
//! `cargo lambda watch`, against moto. A shopper buys through the checkout
//! function; the table's stream records go to the outbox relay (as the
//! event source mapping would hand them over), which puts OrderPlaced on
//! EventBridge; the rule's queue holds it, and it goes to the notifier (as
//! the rule would invoke it), which sends the confirmation through SES.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use kontor_platform::{ShopSettings, Store};
use kontor_store_dynamodb::{table, DynamoStore};
use kontor_testkit::moto::{workspace_root, Moto};
use serde_json::{json, Value};

const TABLE: &str = "kontor-lambda-e2e";
const BUS: &str = "kontor-lambda-e2e";
const SENDER: &str = "shop@kontor.example";

fn sdk_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(Moto::shared().endpoint())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "moto"),
        ))
        .build()
}

/// `cargo lambda watch`, in its own process group so that stopping it also
/// stops the function processes it started.
struct Watch {
    child: Child,
    port: u16,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let group = format!("-{pid}");
        let _ = Command::new("kill").args(["-TERM", &group, &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // cargo lambda watch does not always stop on SIGTERM.
        let _ = Command::new("kill").args(["-KILL", &group, &pid]).status();
        let _ = self.child.wait();
    }
}

fn path_with_venv() -> String {
    let venv = workspace_root().join(".venv/bin");
    format!("{}:{}", venv.display(), std::env::var("PATH").unwrap_or_default())
}

fn lambda_env() -> Vec<(&'static str, String)> {
    vec![
        ("PATH", path_with_venv()),
        ("AWS_ENDPOINT_URL", Moto::shared().endpoint()),
        ("AWS_REGION", "eu-central-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("KONTOR_TABLE", TABLE.into()),
        ("KONTOR_EVENT_BUS", BUS.into()),
        ("KONTOR_SENDER", SENDER.into()),
    ]
}

fn start_watch(log: &Path) -> Watch {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(log).unwrap();
    // cargo-lambda itself rather than `cargo lambda`, so that the child is
    // the watcher and can be stopped with its function processes.
    let child = Command::new(workspace_root().join(".venv/bin/cargo-lambda"))
        .args(["lambda", "watch", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(workspace_root())
        .envs(lambda_env())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("cargo lambda (installed into .venv by scripts/test)");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "cargo lambda watch did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    Watch { child, port }
}

/// `cargo lambda invoke <function> --data-file <file>`; returns its answer.
fn invoke(watch: &Watch, function: &str, payload: &Value, dir: &Path) -> Value {
    let file = dir.join(format!("{function}.json"));
    std::fs::write(&file, payload.to_string()).unwrap();
    let output = Command::new("cargo")
        .args(["lambda", "invoke", function, "-A", "127.0.0.1", "-P", &watch.port.to_string(), "--data-file"])
        .arg(&file)
        .current_dir(workspace_root())
        .envs(lambda_env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "invoke {function} failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or(Value::Null)
}

/// A stream attribute in the DynamoDB JSON that Lambda hands to functions.
fn lambda_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        _ => json!({"NULL": true}),
    }
}

fn image(map: Option<&HashMap<String, AttributeValue>>) -> Value {
    Value::Object(map.into_iter().flatten().map(|(k, v)| (k.clone(), lambda_json(v))).collect())
}

/// Every record of the table's stream, as the event source mapping would
/// deliver them to the relay.
async fn stream_event(config: &aws_config::SdkConfig) -> Value {
    let tables = aws_sdk_dynamodb::Client::new(config);
    let streams = aws_sdk_dynamodbstreams::Client::new(config);
    let arn = tables.describe_table().table_name(TABLE).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    let shards = streams.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description.unwrap().shards.unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id.unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        let output = streams.get_records().set_shard_iterator(iterator).send().await.unwrap();
        for record in output.records.unwrap_or_default() {
            let change = record.dynamodb.unwrap();
            records.push(json!({
                "eventName": record.event_name.map(|n| n.as_str().to_string()),
                "dynamodb": {
                    "SequenceNumber": change.sequence_number,
                    "Keys": image(change.keys.as_ref()),
                    "NewImage": image(change.new_image.as_ref()),
                }
            }));
        }
    }
    json!({ "Records": records })
}

async fn prepare_aws(config: &aws_config::SdkConfig) -> String {
    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    table::create_table(&dynamodb, TABLE).await.unwrap();
    let store = DynamoStore::new(dynamodb, TABLE);
    for product in kontor::seed::demo_catalog(&ShopSettings::default()) {
        store.put_product(&product, None).await.unwrap();
    }
    let events = aws_sdk_eventbridge::Client::new(config);
    events.create_event_bus().name(BUS).send().await.unwrap();
    let queues = aws_sdk_sqs::Client::new(config);
    let queue_url = queues.create_queue().queue_name("kontor-lambda-e2e-notifier").send().await.unwrap().queue_url.unwrap();
    let queue_arn = queues
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    // The same pattern as the notifier's rule in infra/template.yaml.
    events
        .put_rule()
        .name("notifier")
        .event_bus_name(BUS)
        .event_pattern(r#"{"source":["kontor.orders"],"detail-type":["OrderPlaced"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("notifier")
        .event_bus_name(BUS)
        .targets(aws_sdk_eventbridge::types::Target::builder().id("queue").arn(queue_arn).build().unwrap())
        .send()
        .await
        .unwrap();
    aws_sdk_sesv2::Client::new(config).create_email_identity().email_identity(SENDER).send().await.unwrap();
    queue_url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_flows_through_the_lambdas_to_the_confirmation_email() {
    let config = sdk_config();
    let queue_url = prepare_aws(&config).await;
    let dir = tempfile::tempdir().unwrap();
    let watch = start_watch(&dir.path().join("watch.log"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(900)).build().unwrap();

    // The first request builds the function, so it may take a while.
    let body = json!({
        "lines": [{"sku": "TR-CHINO-BEIGE", "quantity": 1}, {"sku": "BE-LEATHER-BROWN", "quantity": 1}],
        "email": "anna@example.de",
        "shipping_address": {"name": "Anna Muster", "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "payment_method": "invoice",
        "language": "en"
    });
    let response = http
        .post(format!("http://127.0.0.1:{}/lambda-url/checkout/checkout", watch.port))
        .header("Idempotency-Key", "lambda-e2e-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 201, "{text}\n{}", std::fs::read_to_string(dir.path().join("watch.log")).unwrap_or_default());
    let placed: Value = serde_json::from_str(&text).unwrap();
    let number = placed["number"].as_str().unwrap().to_string();

    // The stream holds the order's outbox rows; the relay publishes them.
    let stream = stream_event(&config).await;
    let answer = invoke(&watch, "outbox-relay", &stream, dir.path());
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");

    // The rule routed OrderPlaced (and only it) to the notifier's queue.
    let queues = aws_sdk_sqs::Client::new(&config);
    let messages = queues.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap().messages.unwrap_or_default();
    assert_eq!(messages.len(), 1, "one OrderPlaced, no StockChanged");
    let bridge_event: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(bridge_event["detail"]["number"], number.as_str());
    invoke(&watch, "notifier", &bridge_event, dir.path());
    // EventBridge delivers at least once: a second delivery sends nothing.
    invoke(&watch, "notifier", &bridge_event, dir.path());

    let sent: Value = http.get(format!("{}/moto-api/data.json", Moto::shared().endpoint())).send().await.unwrap().json().await.unwrap();
    let confirmations: Vec<&Value> = sent["ses"]["Message"]
        .as_array()
        .map(|all| all.iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(&number))).collect())
        .unwrap_or_default();
    assert_eq!(confirmations.len(), 1, "exactly one confirmation: {sent}");
    assert_eq!(confirmations[0]["source"], SENDER);
    assert_eq!(confirmations[0]["destinations"]["ToAddresses"][0], "anna@example.de");
}
