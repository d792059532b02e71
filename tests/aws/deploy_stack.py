"""Deploys infra/template.yaml, translated to plain CloudFormation, to moto.

The cargo-lambda end-to-end test runs the functions against what this
creates, so it fails when the template and the code disagree on the table's
keys and indexes, the bus, the rule's pattern or the functions' environment.

moto cannot do everything the template asks, so the deployed form differs
from the real one in these ways, and only these:
- CloudFront resources are not supported by moto's CloudFormation; they,
  the bucket policy that names the distribution, and the outputs that use
  them are left out, and the shop URL they would give becomes a placeholder.
- Stream event source mappings would make moto invoke the function in a
  container on every write and then drop the stream records; they are left
  out, and the test hands the stream's records to the relay itself.
- Rules with Lambda targets break PutEvents on moto; each rule's Lambda
  target is replaced by an SQS queue (one per function), from which the
  test delivers to the function the way EventBridge would.
- moto's CloudFormation skips AWS::SES::EmailIdentity; the test verifies
  the sender itself.

Usage: python deploy_stack.py ENDPOINT STACK SENDER
Prints a JSON object: table, bus, environment (the functions' variables,
merged), environments (each function binary's own variables, exactly as
its template entry gives them), and queues (function logical id -> queue
URL).
"""

import io
import json
import os
import sys
import zipfile

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../infra"))
from translate import translate  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


def binaries():
    """Each function's logical id -> the binary its template entry builds."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "../../infra/template.yaml")) as f:
        template = yaml_parse(f.read())
    return {
        name: resource["Metadata"]["BuildProperties"]["Binary"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }

ARTIFACTS = "kontor-artifacts"
SHOP_DOMAIN = "shop.kontor.example"
UNSUPPORTED = {
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
}


def references(node):
    """Logical ids a template fragment refers to by Ref, GetAtt or Sub."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                for part in text.split("${")[1:]:
                    found.add(part.split("}")[0].split(".")[0])
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def for_moto(template):
    resources = template["Resources"]
    dropped = {name for name, r in resources.items() if r["Type"] in UNSUPPORTED}
    dropped |= {name for name, r in resources.items() if r["Type"] == "AWS::Lambda::EventSourceMapping"}
    # The shop URL is the one thing a kept resource takes from CloudFront.
    text = json.dumps(template)
    for name in dropped:
        text = text.replace("${%s.DomainName}" % name, SHOP_DOMAIN)
    template = json.loads(text)
    resources = template["Resources"]
    while True:
        more = {n for n, r in resources.items() if n not in dropped and references(r) & dropped}
        if not more:
            break
        dropped |= more
    for name in dropped:
        del resources[name]
    for name in [n for n, o in template.get("Outputs", {}).items() if references(o) & dropped]:
        del template["Outputs"][name]

    queues = {}
    for name, rule in list(resources.items()):
        if rule["Type"] != "AWS::Events::Rule":
            continue
        targets = rule["Properties"].get("Targets", [])
        for target in targets:
            arn = target.get("Arn", {})
            function = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
            if function and resources.get(function, {}).get("Type") == "AWS::Lambda::Function":
                queue = f"{function}TestQueue"
                resources[queue] = {"Type": "AWS::SQS::Queue"}
                target["Arn"] = {"Fn::GetAtt": [queue, "Arn"]}
                queues[function] = queue
    return template, queues


def main():
    endpoint, stack, sender = sys.argv[1:4]
    client = lambda service: boto3.client(  # noqa: E731
        service,
        endpoint_url=endpoint,
        region_name="eu-central-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    # The functions' code is served by cargo lambda watch, not by moto, but
    # moto wants the artifact the template names to exist.
    s3 = client("s3")
    s3.create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bootstrap", "")
    s3.put_object(Bucket=ARTIFACTS, Key="functions.zip", Body=archive.getvalue())

    template, queues = for_moto(translate(f"s3://{ARTIFACTS}/functions.zip"))
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "SenderEmail", "ParameterValue": sender},
            {"ParameterKey": "EventBusName", "ParameterValue": stack},
            {"ParameterKey": "ShopDomain", "ParameterValue": SHOP_DOMAIN},
            {"ParameterKey": "SignInDomainPrefix", "ParameterValue": stack},
            {"ParameterKey": "OrderLinkKey", "ParameterValue": "moto-order-link-key-0123456789abcdef"},
        ]
        + [
            {"ParameterKey": f"WebhookSecret{sender}", "ParameterValue": "local-webhook-secret"}
            for sender in ["Dhl", "Dpd", "Ups", "Gls", "Hermes", "Other", "AfterShip", "Sendcloud"]
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    if status["StackStatus"] != "CREATE_COMPLETE":
        sys.exit(f"stack {stack}: {status['StackStatus']} {status.get('StackStatusReason')}")
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId")
        for r in cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    }
    environment = {}
    environments = {}
    lambdas = client("lambda")
    built = binaries()
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            config = lambdas.get_function_configuration(FunctionName=physical[name])
            variables = {k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()}
            environments[built[name]] = variables
            for key, value in variables.items():
                if environment.setdefault(key, value) != value:
                    sys.exit(f"functions disagree on {key}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in status.get("Outputs", [])}
    print(
        json.dumps(
            {
                "table": outputs["TableName"],
                "bus": outputs["EventBusName"],
                "environment": environment,
                "environments": environments,
                "queues": {function: physical[queue] for function, queue in queues.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
