#!/usr/bin/env python3
"""Cold starts of Kontor's Lambda functions against a hello-world function.

Plays the Lambda Runtime API on 127.0.0.1 and starts each function's
release binary as Lambda would (a fresh process, the runtime's environment
variables), then times two moments from the exec:

- init: the function's first `GET /runtime/invocation/next`, that is what
  `main` spends before it can take a request (logging, secrets, AWS
  configuration and clients, routers);
- first response: its answer to the first invocation (an API Gateway
  request, a stream batch or a schedule), including the first AWS call's
  set-up (credentials, signing, connection). AWS calls go to this same
  server over plain HTTP (`AWS_ENDPOINT_URL`), which answers DynamoDB as
  an empty table at once, so no network or stand-in's time is counted.

The floor is `hello-lambda` (bench/floor/src/bin/hello-lambda.rs), a
`lambda_http` function built with the same profile. Every binary is started
RUNS times in turn and the median is kept; the table gives each median and
its ratio to the floor's. The machine is shared and noisy: only the ratios
of one run are compared.

Usage: python3 bench/cold-start.py [RUNS] [PROFILE]   (defaults 21, release)
Builds the binaries itself (`cargo build --profile PROFILE --features lambda`).
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 21
PROFILE = sys.argv[2] if len(sys.argv) > 2 else "release"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def api_request(method, path, body=None):
    """An API Gateway (HTTP API, payload 2.0) request as Lambda hands it over."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example", "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example",
            "domainPrefix": "api", "requestId": "r1", "routeKey": "$default",
            "stage": "$default", "time": "08/Dec/2026:10:00:00 +0000",
            "timeEpoch": 1796724000000,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "cold-start"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


CHECKOUT = {
    "lines": [{"sku": "TR-CHINO-BEIGE", "quantity": 1}],
    "email": "anna@example.de",
    "shipping_address": {"name": "Anna Muster", "street": "Hauptstraße 1",
                         "postal_code": "10115", "city": "Berlin", "country": "DE"},
    "payment_method": "invoice",
    "language": "de",
}
SCHEDULE = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

# package, binary, first invocation. Each HTTP function gets a request it
# answers by reading the store, so its first response includes the SDK's
# first call; the others get what their trigger sends.
FUNCTIONS = [
    ("kontor-floor", "hello-lambda", api_request("GET", "/")),
    ("kontor-catalog", "catalog", api_request("GET", "/catalog/products")),
    ("kontor-checkout", "checkout", api_request("POST", "/checkout", CHECKOUT)),
    ("kontor-orders", "orders", api_request("GET", "/orders/01J0000000000000000000000")),
    ("kontor-shipment", "shipment", api_request("GET", "/admin/carriers")),
    ("kontor-tracking-update", "tracking-update", api_request("GET", "/")),
    ("kontor-order-lifecycle", "order-lifecycle", api_request("GET", "/")),
    ("kontor-order-lifecycle", "order-expiry", SCHEDULE),
    ("kontor-order-adjustment", "order-adjustment", api_request("GET", "/")),
    ("kontor-return", "return", api_request("GET", "/")),
    ("kontor-rule-evaluation", "rule-evaluation", api_request("GET", "/")),
    ("kontor-outbox-relay", "outbox-relay", {"Records": []}),
    ("kontor-outbox-relay", "outbox-sweeper", SCHEDULE),
    ("kontor-notifier", "notifier", {
        "version": "0", "id": "e1", "detail-type": "OrderPlaced", "source": "kontor",
        "account": "123456789012", "time": "2026-12-08T10:00:00Z", "region": "eu-central-1",
        "resources": [], "detail": {}}),
]

# DynamoDB as an empty table: what each operation answers when nothing is found.
EMPTY_DYNAMODB = {
    "GetItem": {},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
    "Scan": {"Items": [], "Count": 0, "ScannedCount": 0},
    "BatchGetItem": {"Responses": {"kontor": []}, "UnprocessedKeys": {}},
}


class Invocation:
    """The moments one started process reached, in nanoseconds since its exec."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.started = 0
        self.first_next = None
        self.answered = None
        self.outcome = None
        self.done = threading.Event()


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the
    # second waits for the client's delayed ACK (40 ms) on a kept-alive
    # connection, which would be counted as the function's time.
    disable_nagle_algorithm = True
    invocation = None

    def log_message(self, *_):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        invocation = self.invocation
        if self.path.endswith("/runtime/invocation/next"):
            if invocation.first_next is not None:
                # The next invocation never comes: the process is stopped first.
                invocation.done.wait()
                time.sleep(5)
                return
            invocation.first_next = time.perf_counter_ns() - invocation.started
            self.answer(200, invocation.event, [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", "req-1"),
                ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 "arn:aws:lambda:eu-central-1:123456789012:function:bench"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])
        else:
            self.answer(404)

    def do_POST(self):
        invocation = self.invocation
        body = self.read_body()
        if "/runtime/" in self.path:
            kind = self.path.rsplit("/", 1)[-1]
            if invocation.answered is None:
                invocation.answered = time.perf_counter_ns() - invocation.started
                invocation.outcome = kind
                if kind != "response":
                    invocation.outcome = f"{kind}: {body[:200]!r}"
            self.answer(202, b"{}")
            invocation.done.set()
            return
        target = self.headers.get("X-Amz-Target", "")
        operation = target.split(".")[-1]
        if target.startswith("DynamoDB_") and operation in EMPTY_DYNAMODB:
            self.answer(200, json.dumps(EMPTY_DYNAMODB[operation]).encode(),
                        [("Content-Type", "application/x-amz-json-1.0")])
        else:
            self.answer(400, json.dumps({"__type": "UnknownOperationException"}).encode(),
                        [("Content-Type", "application/x-amz-json-1.0")])


def build():
    """The release binaries: the floor, then every function crate with its
    `lambda` feature (which the floor's crate does not have)."""
    base = ["cargo", "build", "--quiet", "--profile", PROFILE]
    subprocess.run(base + ["-p", "kontor-floor", "--bin", "hello-lambda"], cwd=ROOT, check=True)
    command = list(base)
    for package in sorted({package for package, _, _ in FUNCTIONS} - {"kontor-floor"}):
        command += ["-p", package]
    subprocess.run(command + ["--features", "lambda"], cwd=ROOT, check=True)


def start_once(binary, event):
    """One start of `binary`, served by a Runtime API of its own: a process
    that is being stopped may still ask for its next invocation, which
    must not reach the next process's server."""
    invocation = Invocation(event)
    handler = type("Handler", (RuntimeApi,), {"invocation": invocation})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCH",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_SESSION_TOKEN": "bench-token",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "KONTOR_TABLE": "kontor",
        "KONTOR_LINK_KEY": "cold-start-bench-link-key-of-32-bytes!!",
        "KONTOR_WEBHOOK_SECRET": "cold-start-bench-webhook-secret!!",
        "KONTOR_EVENT_BUS": "kontor",
        "KONTOR_MAIL_FROM": "shop@kontor.example",
        "RUST_LOG": "error",
    }
    invocation.started = time.perf_counter_ns()
    process = subprocess.Popen([binary], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finished = invocation.done.wait(timeout=10)
    process.kill()
    _, errors = process.communicate()
    server.shutdown()
    server.server_close()
    if not finished:
        raise SystemExit(f"{binary} did not answer: {errors.decode(errors='replace')[-2000:]}")
    return invocation


def main():
    build()
    directory = os.path.join(TARGET, PROFILE)

    inits = {binary: [] for _, binary, _ in FUNCTIONS}
    firsts = {binary: [] for _, binary, _ in FUNCTIONS}
    outcomes = {}
    for _ in range(RUNS):
        # In turn, so that the machine's load drifts over all binaries alike.
        for _, binary, event in FUNCTIONS:
            invocation = start_once(os.path.join(directory, binary), event)
            inits[binary].append(invocation.first_next / 1e6)
            firsts[binary].append(invocation.answered / 1e6)
            outcomes[binary] = invocation.outcome

    floor = FUNCTIONS[0][1]
    floor_init = statistics.median(inits[floor])
    floor_first = statistics.median(firsts[floor])
    print(f"{RUNS} starts each, medians, profile `{PROFILE}`\n")
    print("| function | binary | init ms | × floor | first response ms | × floor | answer |")
    print("|---|---|---|---|---|---|---|")
    for _, binary, _ in FUNCTIONS:
        init = statistics.median(inits[binary])
        first = statistics.median(firsts[binary])
        size = os.path.getsize(os.path.join(directory, binary)) / 1024 / 1024
        outcome = outcomes[binary] if outcomes[binary] == "response" else "error (see below)"
        print(f"| {binary} | {size:.1f} MiB | {init:.2f} | {init / floor_init:.2f} "
              f"| {first:.2f} | {first / floor_first:.2f} | {outcome} |")
    for binary, outcome in outcomes.items():
        if outcome != "response":
            print(f"\n{binary}: {outcome}")


if __name__ == "__main__":
    main()
