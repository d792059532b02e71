#!/usr/bin/env python3
"""What 1,000 orders cost on AWS, from the calls Kontor really makes.

`tests/aws_calls.rs` runs every workflow through the handlers, relay and
consumer code the Lambdas run, against moto, and (with KONTOR_COST_CAPTURE
set) writes each step's AWS calls with their request and response bodies
and a scan of the table. This script prices them:

- DynamoDB on demand: write and read request units from the items' sizes
  by DynamoDB's own rules (attribute names and values; 1 KB a write unit,
  4 KB a read unit, halved for eventually consistent reads, doubled in
  transactions), plus a write for every global secondary index an item is
  in (the projection is the whole item while indexes project ALL);
- EventBridge events from the relay's PutEvents entries;
- SES e-mails;
- Lambda requests and GB-seconds: each invocation's billed time is its
  compute time plus the stated latency of each AWS call it waits for;
- API Gateway (HTTP API) requests, CloudFront requests and bytes,
  CloudWatch Logs ingestion.

Prices are eu-central-1 list prices as stated in PRICES (assumptions, read
2026; check them before deciding anything), the traffic mix is the
issue's. The table goes to stdout, or into docs/COST.md with --write.

Usage: python3 bench/cost.py [--write] [--capture FILE]
(without --capture it runs `cargo test --test aws_calls` to make one; that
needs moto in .venv, as `bash scripts/test` installs it).
"""

import base64
import json
import math
import os
import subprocess
import sys
import tempfile
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# eu-central-1 list prices in USD (assumptions; see the module's text).
PRICES = {
    "dynamodb_write_unit": 0.7625 / 1e6,
    "dynamodb_read_unit": 0.1525 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "api_gateway_http_request": 1.20 / 1e6,
    "eventbridge_event": 1.00 / 1e6,
    "ses_email": 0.10 / 1000,
    "cloudfront_https_request": 0.012 / 10000,
    "cloudfront_gb_out": 0.085,
    "cloudwatch_logs_gb": 0.63,
}

# Per order, as the issue states it.
MIX = {
    "catalog_listing": 20,
    "product_page": 20,
    "cart_evaluation": 3,
    "checkout": 1,
    "parcel": 2,
    "carrier_event": 4,
    "order_view": 5,
    "email": 3,
}

# Assumptions the calls cannot tell.
LAMBDA_MEMORY_GB = 128 / 1024  # infra/template.yaml's MemorySize
COMPUTE_MS = 2.0  # a request's own CPU time on Lambda's share of a core
CALL_LATENCY_MS = {  # in-region latency a function waits for, per call
    "DynamoDB.GetItem": 4, "DynamoDB.Query": 5, "DynamoDB.BatchGetItem": 6,
    "DynamoDB.PutItem": 6, "DynamoDB.UpdateItem": 6,
    "DynamoDB.TransactWriteItems": 12, "EventBridge.PutEvents": 15,
    "SESv2.SendEmail": 40,
}
# CloudFront serves repeated catalog reads from its cache (10-60 s TTLs).
CACHE_HIT = {"catalog_listing": 0.9, "product_page": 0.8}
RESPONSE_BYTES = {  # compressed, as CloudFront sends them
    "catalog_listing": 2500, "product_page": 1200, "cart_evaluation": 900,
    "checkout": 800, "order_view": 1500,
}
STATIC_REQUESTS_PER_ORDER = 30  # pages' files, most from the browser's cache
STATIC_BYTES_PER_ORDER = 250_000
LOG_BYTES_PER_INVOCATION = 600  # START/END/REPORT lines and one info line
EVENTS_PER_PARCEL = 1  # ParcelShipped and the like: one per status change
EVENTS_PER_CARRIER_EVENT = 1
INDEX_KEYS = ("GSI1PK", "GSI2PK", "GSI3PK")


def value_size(value):
    """A DynamoDB attribute value's size in bytes, by DynamoDB's rules."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(element) + 1
                       for name, element in inner.items())
    if kind == "SS":
        return sum(len(element.encode()) for element in inner)
    if kind == "NS":
        return sum(value_size({"N": element}) for element in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(element)) for element in inner)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item):
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def key_of(item):
    return (item["PK"]["S"], item["SK"]["S"])


class Pricer:
    """Read and write units of captured calls."""

    def __init__(self, items):
        self.items = {key_of(item): item for item in items}

    def size_at(self, key_item):
        item = self.items.get(key_of(key_item))
        return item_size(item) if item else item_size(key_item)

    def indexes_of(self, key_item, removed=""):
        item = self.items.get(key_of(key_item), key_item)
        return sum(1 for name in INDEX_KEYS if name in item or name in removed)

    def write(self, kind, body, transactional):
        """Write units of one Put, Update, Delete or ConditionCheck."""
        factor = 2 if transactional else 1
        if kind == "Put":
            size = item_size(body["Item"])
            indexes = sum(1 for name in INDEX_KEYS if name in body["Item"])
        elif kind == "Update":
            size = self.size_at(body["Key"])
            indexes = self.indexes_of(body["Key"], body.get("UpdateExpression", ""))
        elif kind == "Delete":
            size = self.size_at(body["Key"])
            indexes = self.indexes_of(body["Key"])
        else:  # ConditionCheck
            size, indexes = item_size(body["Key"]), 0
        units = max(1, math.ceil(size / 1024))
        return factor * units, indexes * units

    def call(self, name, request, response):
        """(table write units, index write units, read units) of a call."""
        request = json.loads(request) if request else {}
        response = json.loads(response) if response else {}
        operation = name.split(".", 1)[1]
        if operation == "PutItem":
            return (*self.write("Put", request, False), 0)
        if operation == "UpdateItem":
            return (*self.write("Update", request, False), 0)
        if operation == "DeleteItem":
            return (*self.write("Delete", request, False), 0)
        if operation == "TransactWriteItems":
            table = index = 0
            for entry in request["TransactItems"]:
                (kind, body), = entry.items()
                written, indexed = self.write(kind, body, True)
                table, index = table + written, index + indexed
            return table, index, 0
        consistent = 1 if request.get("ConsistentRead") else 0.5
        if operation == "GetItem":
            size = item_size(response.get("Item", {}))
            return 0, 0, consistent * max(1, math.ceil(size / 4096))
        if operation == "Query":
            size = sum(item_size(item) for item in response.get("Items", []))
            return 0, 0, consistent * max(1, math.ceil(size / 4096))
        if operation == "BatchGetItem":
            units = 0
            for table, asked in request["RequestItems"].items():
                factor = 1 if asked.get("ConsistentRead") else 0.5
                found = response.get("Responses", {}).get(table, [])
                units += factor * sum(max(1, math.ceil(item_size(item) / 4096)) for item in found)
                units += factor * max(0, len(asked["Keys"]) - len(found))
            return 0, 0, units
        return 0, 0, 0


def capture():
    path = os.path.join(tempfile.mkdtemp(), "aws-calls.json")
    env = dict(os.environ, KONTOR_COST_CAPTURE=path)
    subprocess.run(["cargo", "test", "--quiet", "--test", "aws_calls"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return path


def main():
    args = sys.argv[1:]
    path = args[args.index("--capture") + 1] if "--capture" in args else capture()
    with open(path) as file:
        captured = json.load(file)
    steps = {step["step"]: step["calls"] for step in captured["steps"]}
    pricer = Pricer([item for page in steps["table_scan"]
                     for item in json.loads(page["response"])["Items"]])

    def units(step):
        """(table writes, index writes, reads, calls) of one step."""
        total = [0, 0, 0]
        for call in steps[step]:
            if call["call"].startswith("DynamoDB."):
                for n, value in enumerate(pricer.call(call["call"], call["request"], call["response"])):
                    total[n] += value
        return (*total, [call["call"] for call in steps[step]])

    def latency(step):
        return COMPUTE_MS + sum(CALL_LATENCY_MS.get(call["call"], 5) for call in steps[step])

    relay_calls = steps["relay"]
    checkout_events = sum(len(json.loads(call["request"])["Entries"])
                          for call in relay_calls if call["call"] == "EventBridge.PutEvents")
    events = (checkout_events + MIX["parcel"] * EVENTS_PER_PARCEL
              + MIX["carrier_event"] * EVENTS_PER_CARRIER_EVENT)
    relay = units("relay")
    per_event_relay = [value / checkout_events for value in relay[:3]]

    # Each row: what a shopper, staff or a carrier does, how often per
    # order, and which steps of the capture it is.
    rows = [
        ("catalog listing", "catalog_listing", MIX["catalog_listing"] * (1 - CACHE_HIT["catalog_listing"])),
        ("product page", "product_page", MIX["product_page"] * (1 - CACHE_HIT["product_page"])),
        ("cart evaluation", "cart_evaluation", MIX["cart_evaluation"]),
        ("checkout", "checkout", MIX["checkout"]),
        ("parcel packed", "parcel_packed", MIX["parcel"]),
        ("parcel shipped (staff)", "parcel_status", MIX["parcel"]),
        ("carrier event", "carrier_event", MIX["carrier_event"]),
        ("order view", "order_view", MIX["order_view"]),
        ("e-mail (notifier)", "email", MIX["email"]),
    ]
    lines = []
    totals = {"write": 0.0, "index": 0.0, "read": 0.0, "invocations": 0.0, "gb_s": 0.0}
    for label, step, times in rows:
        write, index, read, calls = units(step)
        totals["write"] += times * write
        totals["index"] += times * index
        totals["read"] += times * read
        totals["invocations"] += times
        totals["gb_s"] += times * latency(step) / 1000 * LAMBDA_MEMORY_GB
        lines.append(f"| {label} | {times:g} | {', '.join(calls)} | {write:g} | {index:g} | {read:g} | {latency(step):g} |")
    # The relay: one invocation per order (a stream batch), a mark per event.
    totals["write"] += events * per_event_relay[0]
    totals["index"] += events * per_event_relay[1]
    totals["read"] += events * per_event_relay[2]
    totals["invocations"] += 1
    totals["gb_s"] += latency("relay") / 1000 * LAMBDA_MEMORY_GB
    lines.append(f"| relay (per event) | {events:g} | PutEvents per ten, UpdateItem each | "
                 f"{per_event_relay[0]:g} | {per_event_relay[1]:g} | {per_event_relay[2]:g} | {latency('relay'):g} (per batch) |")

    api_requests = sum(times for label, step, times in rows if step != "email")
    shopper_requests = sum(MIX[step] for step in ("catalog_listing", "product_page",
                                                   "cart_evaluation", "checkout", "order_view"))
    staff_requests = 2 * MIX["parcel"]
    cloudfront_requests = shopper_requests + staff_requests + STATIC_REQUESTS_PER_ORDER
    cloudfront_bytes = STATIC_BYTES_PER_ORDER + sum(
        MIX[step] * size for step, size in RESPONSE_BYTES.items())

    per_order = {
        "DynamoDB writes (table)": totals["write"] * PRICES["dynamodb_write_unit"],
        "DynamoDB writes (indexes)": totals["index"] * PRICES["dynamodb_write_unit"],
        "DynamoDB reads": totals["read"] * PRICES["dynamodb_read_unit"],
        "Lambda requests": totals["invocations"] * PRICES["lambda_request"],
        "Lambda GB-seconds": totals["gb_s"] * PRICES["lambda_gb_second_arm64"],
        "API Gateway": api_requests * PRICES["api_gateway_http_request"],
        "EventBridge": events * PRICES["eventbridge_event"],
        "SES": MIX["email"] * PRICES["ses_email"],
        "CloudFront requests": cloudfront_requests * PRICES["cloudfront_https_request"],
        "CloudFront bytes": cloudfront_bytes / 1e9 * PRICES["cloudfront_gb_out"],
        "CloudWatch Logs": totals["invocations"] * LOG_BYTES_PER_INVOCATION / 1e9 * PRICES["cloudwatch_logs_gb"],
    }
    total = sum(per_order.values())
    without_ses = total - per_order["SES"]

    out = []
    out.append("# What 1,000 orders cost on AWS\n")
    out.append("Written by `python3 bench/cost.py --write` (it runs `tests/aws_calls.rs` against "
               f"moto with `KONTOR_COST_CAPTURE` and prices what it captured), {date.today()}.\n")
    out.append("Traffic per order (the issue's mix): " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in MIX.items())
               + f". CloudFront answers {CACHE_HIT['catalog_listing']:.0%} of listings and "
               f"{CACHE_HIT['product_page']:.0%} of product pages from its cache.\n")
    out.append("## Per 1,000 orders\n")
    out.append("| item | USD |\n|---|---|")
    for name, dollars in per_order.items():
        out.append(f"| {name} | {dollars * 1000:.4f} |")
    out.append(f"| **total** | **{total * 1000:.4f}** |")
    out.append(f"| total without SES | {without_ses * 1000:.4f} |\n")
    goal = "holds" if total * 1000 <= 0.50 and without_ses * 1000 <= 0.20 else "does NOT hold"
    out.append(f"Goal ≤ $0.50 per 1,000 orders, ≤ $0.20 without SES: **{goal}**.\n")
    out.append("## Per request, from the captured calls\n")
    out.append("Write units count a transaction's writes twice, as DynamoDB bills them; index "
               "writes are one per index an item is in, at the item's size (projection `ALL`). "
               "Read units are halved for eventually consistent reads. The billed time is "
               f"{COMPUTE_MS:g} ms of compute plus each call's assumed latency.\n")
    out.append("| request | per order | AWS calls | write units | index write units | read units | billed ms |")
    out.append("|---|---|---|---|---|---|---|")
    out.extend(lines)
    out.append("")
    out.append("## Prices and assumptions\n")
    out.append("eu-central-1 list prices (USD, assumptions, read in 2026; check before deciding): "
               + "; ".join(f"{name.replace('_', ' ')} {price:.10g}" for name, price in PRICES.items()) + ".\n")
    out.append(f"- Lambda: {LAMBDA_MEMORY_GB * 1024:.0f} MB arm64 (the template's), {COMPUTE_MS:g} ms compute per "
               "invocation, call latencies " + ", ".join(f"{k} {v} ms" for k, v in CALL_LATENCY_MS.items())
               + "; one relay invocation per order; cold starts are left out (under 1 % of invocations at "
               "steady traffic, and a function's init is a few milliseconds: docs/figures.md).")
    out.append(f"- Events per order: the checkout's own ({checkout_events}, captured) plus "
               f"{EVENTS_PER_PARCEL} per parcel and {EVENTS_PER_CARRIER_EVENT} per carrier event.")
    out.append(f"- CloudFront: {STATIC_REQUESTS_PER_ORDER} requests and {STATIC_BYTES_PER_ORDER // 1000} kB "
               "of the pages' files per order, plus the API answers' compressed sizes "
               + ", ".join(f"{k.replace('_', ' ')} {v} B" for k, v in RESPONSE_BYTES.items()) + ".")
    out.append(f"- CloudWatch Logs: {LOG_BYTES_PER_INVOCATION} bytes per invocation.")
    out.append("- Left out: DynamoDB storage and backups (about $0.31 and $0.24 per GB-month; an order "
               "with its history is a few kB), S3 storage of the pages, the free tiers.")
    text = "\n".join(out) + "\n"
    if "--write" in args:
        with open(os.path.join(ROOT, "docs", "COST.md"), "w") as file:
            file.write(text)
    print(text)


if __name__ == "__main__":
    main()
