"""Translates infra/template.yaml (AWS SAM) into plain CloudFormation, offline.

cfn-lint checks the SAM form but not references inside SAM resources; the
plain form it checks fully (a misspelled !Ref shows up there). The
translation is also what tests deploy to moto's CloudFormation.

Usage: python infra/translate.py OUT.json [CODE_URI]
CODE_URI replaces the local CodeUri (default s3://kontor-artifacts/functions.zip).
"""

import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The translator asks for AWS managed policy ARNs; Kontor names none."""

    def load(self):
        return {}


def translate(code_uri="s3://kontor-artifacts/functions.zip"):
    """The template in plain CloudFormation; exits with the translator's
    complaints when the SAM form is invalid."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "template.yaml")) as f:
        template = yaml_parse(f.read())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    try:
        return transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"infra/template.yaml: {cause.message}", file=sys.stderr)
        sys.exit(1)


def main():
    out = sys.argv[1]
    translated = translate(*sys.argv[2:3])
    with open(out, "w") as f:
        json.dump(translated, f, indent=2, default=str)


if __name__ == "__main__":
    main()
