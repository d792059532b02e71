//! End to end on the AWS side: the functions as Lambdas under
//! `cargo lambda watch`, against what infra/template.yaml creates when its
//! plain-CloudFormation translation is deployed to moto
//! (tests/aws/deploy_stack.py says how that form differs). The functions
//! run with the environment the template gives them. A shopper buys through
//! the checkout function; the table's stream records go to the outbox relay
//! (as the event source mapping would hand them over), which puts
//! OrderPlaced on EventBridge; the template's rule routes it to a queue, and
//! from there it goes to the notifier (as the rule would invoke it), which
//! sends the confirmation through SES.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kontor_domain::order::OrderFilter;
use kontor_platform::store::roles::*;
use kontor_platform::{OrderSearch, ShopSettings};
use kontor_store_dynamodb::DynamoStore;
use kontor_testkit::moto::{python, workspace_root, Moto};
use serde_json::{json, Value};
use support::{sdk_config, stream_event};

mod support;

const STACK: &str = "kontor-lambda-e2e";
const SENDER: &str = "shop@kontor.example";

/// What the deployed stack is called and gives the functions.
struct Stack {
    table: String,
    /// Each function binary's variables, as its template entry gives them.
    environments: std::collections::HashMap<String, Vec<(String, String)>>,
    notifier_queue: String,
}

/// A command without the test process's own Kontor and AWS variables, so
/// that a function sees only what its template entry gives it.
fn without_inherited_settings(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("KONTOR_") || key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
}

/// `cargo lambda watch` and every process it starts. They all carry
/// `KONTOR_E2E_RUN` in their environment, which is how teardown finds the
/// function processes the watcher spawned in process groups of their own:
/// left running, they would hold the test runner's output open forever.
struct Watch {
    child: Child,
    port: u16,
    marker: String,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The functions may be restarted by a watcher still on its way out,
        // so look again until none is left.
        let needle = format!("KONTOR_E2E_RUN={}", self.marker);
        for _ in 0..50 {
            let stragglers = processes_with(&needle);
            if stragglers.is_empty() {
                return;
            }
            for pid in stragglers {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The processes whose environment holds `needle` (`NAME=value`).
fn processes_with(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|environ| {
                    environ
                        .split(|b| *b == 0)
                        .any(|var| var == needle.as_bytes())
                })
                .unwrap_or(false)
        })
        .collect()
}

fn path_with_venv() -> String {
    let venv = workspace_root().join(".venv/bin");
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The environment of `function`: exactly the variables its template entry
/// gives it (so a variable missing there fails here), and moto as AWS.
fn lambda_env(stack: &Stack, function: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), path_with_venv()),
        ("AWS_ENDPOINT_URL".into(), Moto::shared().endpoint()),
        ("AWS_REGION".into(), "eu-central-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
    ];
    env.extend(
        stack
            .environments
            .get(function)
            .unwrap_or_else(|| panic!("the template deploys no function {function}"))
            .iter()
            .cloned(),
    );
    env
}

/// `cargo lambda watch` with one function's environment: each function
/// under test gets a watcher of its own.
fn start_watch(stack: &Stack, function: &str, log: &Path) -> Watch {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(log).unwrap();
    let marker = format!("{}-{port}", std::process::id());
    // cargo-lambda itself rather than `cargo lambda`, so that the child is
    // the watcher and can be stopped with its function processes.
    let child = without_inherited_settings(&mut Command::new(
        workspace_root().join(".venv/bin/cargo-lambda"),
    ))
    .args([
        "lambda",
        "watch",
        "-A",
        "127.0.0.1",
        "-P",
        &port.to_string(),
    ])
    .current_dir(workspace_root())
    .envs(lambda_env(stack, function))
    .env("KONTOR_E2E_RUN", &marker)
    .stdin(Stdio::null())
    .stdout(log.try_clone().unwrap())
    .stderr(log)
    .process_group(0)
    .spawn()
    .expect("cargo lambda (installed into .venv by scripts/test)");
    let watch = Watch {
        child,
        port,
        marker,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    watch
}

/// `cargo lambda invoke <function> --data-file <file>`; returns its answer.
fn invoke(watch: &Watch, stack: &Stack, function: &str, payload: &Value, dir: &Path) -> Value {
    let file = dir.join(format!("{function}.json"));
    std::fs::write(&file, payload.to_string()).unwrap();
    let output = without_inherited_settings(&mut Command::new("cargo"))
        .args([
            "lambda",
            "invoke",
            function,
            "-A",
            "127.0.0.1",
            "-P",
            &watch.port.to_string(),
            "--data-file",
        ])
        .arg(&file)
        .current_dir(workspace_root())
        .envs(lambda_env(stack, function))
        .env("KONTOR_E2E_RUN", &watch.marker)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "invoke {function} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or(Value::Null)
}

/// Deploys the template to moto, verifies the sender (moto's CloudFormation
/// skips SES identities) and stocks the deployed table with the demo catalog.
async fn deploy(config: &aws_config::SdkConfig) -> Stack {
    let output = Command::new(python())
        .arg(workspace_root().join("tests/aws/deploy_stack.py"))
        .args([Moto::shared().endpoint().as_str(), STACK, SENDER])
        .output()
        .expect("python from .venv (scripts/test creates it)");
    assert!(
        output.status.success(),
        "deploying the template failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let deployed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let stack = Stack {
        table: deployed["table"].as_str().unwrap().to_string(),
        environments: deployed["environments"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(function, variables)| {
                let variables = variables
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect();
                (function.clone(), variables)
            })
            .collect(),
        notifier_queue: deployed["queues"]["NotifierFunction"]
            .as_str()
            .expect("the notifier's rule")
            .to_string(),
    };
    aws_sdk_sesv2::Client::new(config)
        .create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(config), &stack.table);
    for product in kontor::seed::demo_catalog(&ShopSettings::default()) {
        store.put_product(&product, None).await.unwrap();
    }
    stack
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_flows_through_the_lambdas_to_the_confirmation_email() {
    let config = sdk_config();
    let stack = deploy(&config).await;
    let dir = tempfile::tempdir().unwrap();
    let watch = start_watch(&stack, "checkout", &dir.path().join("watch.log"));
    let relay_watch = start_watch(&stack, "outbox-relay", &dir.path().join("relay.log"));
    let notifier_watch = start_watch(&stack, "notifier", &dir.path().join("notifier.log"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()
        .unwrap();

    // The first request builds the function, so it may take a while.
    let body = json!({
        "lines": [{"sku": "TR-CHINO-BEIGE", "quantity": 1}, {"sku": "BE-LEATHER-BROWN", "quantity": 1}],
        "email": "anna@example.de",
        "shipping_address": {"name": "Anna Muster", "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "payment_method": "invoice",
        "language": "en"
    });
    let response = http
        .post(format!(
            "http://127.0.0.1:{}/lambda-url/checkout/checkout",
            watch.port
        ))
        .header("Idempotency-Key", "lambda-e2e-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        status,
        201,
        "{text}\n{}",
        std::fs::read_to_string(dir.path().join("watch.log")).unwrap_or_default()
    );
    let placed: Value = serde_json::from_str(&text).unwrap();
    let number = placed["number"].as_str().unwrap().to_string();

    // The deployed table has the indexes the code queries: staff find the
    // order in the list (GSI3), by e-mail (GSI1) and by name (word items).
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), &stack.table);
    for text in [None, Some("anna@example.de"), Some("Muster")] {
        let search = OrderSearch {
            text: text.map(str::to_string),
            filter: OrderFilter::default(),
            after: None,
            limit: 10,
        };
        let found = store.search_orders(&search).await.unwrap();
        assert_eq!(
            found
                .iter()
                .map(|o| o.number.to_string())
                .collect::<Vec<_>>(),
            [number.as_str()],
            "{text:?}"
        );
    }

    // The stream holds the order's outbox rows; the relay publishes them.
    let stream = stream_event(&config, &stack.table).await;
    let answer = invoke(&relay_watch, &stack, "outbox-relay", &stream, dir.path());
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");

    // The rule routed OrderPlaced (and only it) to the notifier's queue.
    let queues = aws_sdk_sqs::Client::new(&config);
    let messages = queues
        .receive_message()
        .queue_url(&stack.notifier_queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1, "one OrderPlaced, no StockChanged");
    let bridge_event: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(bridge_event["detail"]["number"], number.as_str());
    invoke(
        &notifier_watch,
        &stack,
        "notifier",
        &bridge_event,
        dir.path(),
    );
    // EventBridge delivers at least once: a second delivery sends nothing.
    invoke(
        &notifier_watch,
        &stack,
        "notifier",
        &bridge_event,
        dir.path(),
    );

    let sent = Moto::shared().sent_mail();
    let confirmations: Vec<&Value> = sent
        .iter()
        .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(&number)))
        .collect();
    assert_eq!(confirmations.len(), 1, "exactly one confirmation: {sent:?}");
    assert_eq!(confirmations[0]["source"], SENDER);
    assert_eq!(
        confirmations[0]["destinations"]["ToAddresses"][0],
        "anna@example.de"
    );
    // The notifier and the checkout share the link key the template gives
    // them: the e-mail's link opens the order with the token the checkout
    // answered.
    let link = format!(
        "#/order/{}?token={}",
        placed["id"].as_str().unwrap(),
        placed["access_token"].as_str().unwrap()
    );
    assert!(
        confirmations[0]["body"].to_string().contains(&link),
        "the order's link with its token: {}",
        confirmations[0]["body"]
    );
}
