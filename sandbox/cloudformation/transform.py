"""The SAM transform (``Transform: AWS::Serverless-2016-10-31``), by AWS SAM's own translator.

CloudFormation runs the transform when it receives a template that names it ("AWS::Serverless
transform", https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
transform-aws-serverless.html); so does the sandbox's server, before moto parses the template,
so a SAM template reaches the sandbox's CloudFormation exactly as it reaches AWS's (boto3's
create_stack, ``sandbox.deploy``, ``course deploy``). aws-sam-translator calls AWS only to list
IAM's managed policies; it is given the map it bundles instead.
"""

from __future__ import annotations

import logging
from typing import Any

from ..accounts import ACCOUNT_ID, REGION

SAM = "AWS::Serverless-2016-10-31"

# AWS::Serverless::Application nests another stack from the Serverless Application Repository
# (or a template URL): the sandbox has neither the repository nor nested stacks.
APPLICATION_REFUSED = (
    "Resource {logical_id!r} is an AWS::Serverless::Application: it deploys an application "
    "from the AWS Serverless Application Repository as a nested stack, and the sandbox has "
    "neither (it has no network, and its CloudFormation does not nest stacks). Copy the "
    "application's own template into yours, or deploy it as a stack of its own."
)


class SamTransformError(Exception):
    """The translator refused the template; the message is CloudFormation's."""


def transform(template: dict[str, Any], parameters: dict[str, Any], *,
              account_id: str = ACCOUNT_ID, region: str = REGION) -> dict[str, Any]:
    """The CloudFormation template the SAM template ``template`` stands for.

    Raises SamTransformError with CloudFormation's message: "Transform AWS::Serverless-2016-10-31
    failed with: Invalid Serverless Application Specification document. ..."."""
    import boto3

    # the translator logs its own metrics ("There are unpublished metrics"): not the learner's
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::Application":
            raise SamTransformError(APPLICATION_REFUSED.format(logical_id=logical_id))
    values = {"AWS::AccountId": account_id, "AWS::Region": region, "AWS::Partition": "aws",
              **parameters}
    # the session only tells the translator its region; it makes no call
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session)
    try:
        result: dict[str, Any] = translator.translate(
            template, parameter_values=values,
            get_managed_policy_map=lambda: get_bundled_managed_policy_map("aws") or {})
    except InvalidDocumentException as error:
        reasons = " ".join(cause.message for cause in error.causes)
        raise SamTransformError(
            f"Transform {SAM} failed with: Invalid Serverless Application Specification "
            f"document. Number of errors found: {len(error.causes)}. {reasons}") from None
    return result
