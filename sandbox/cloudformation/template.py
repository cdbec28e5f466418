"""Reading a CloudFormation or SAM template: JSON, or YAML with CloudFormation's short forms.

``!Ref X`` is ``{"Ref": "X"}``, ``!GetAtt A.B`` is ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub``,
``!If`` and the other ``!Name`` tags are ``{"Fn::Name": value}``, ``!Condition X`` is
``{"Condition": "X"}``: the forms AWS documents in "Intrinsic function reference"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
Used by the notebook's ``sandbox.deploy`` and by the server; imports neither moto nor boto3.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..errors import DeployError


class TemplateError(DeployError):
    """A template that is neither JSON nor YAML, or not a mapping."""


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML is unannotated
    """YAML 1.1 as CloudFormation reads it, plus its intrinsic functions' short forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        # "!GetAtt Resource.Attribute" (an attribute may itself contain dots)
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_form)
# CloudFormation keeps timestamps and dates as strings (e.g. a Version: 2012-10-17 unquoted)
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def loads(text: str, source: str = "the template") -> dict[str, Any]:
    """The template in ``text`` as a dict (JSON first, as CloudFormation tries it, then YAML)."""
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.load(text, Loader=_Loader)  # noqa: S506  (a safe loader's subclass)
        except yaml.YAMLError as error:
            raise TemplateError(f"Template format error: {source} is neither JSON nor valid "
                                f"YAML: {error}") from None
    if not isinstance(document, dict):
        raise TemplateError(f"Template format error: {source} is not a JSON or YAML mapping "
                            "(a template starts with keys such as Resources:).")
    return document


def is_sam(template: dict[str, Any]) -> bool:
    """Whether the template asks for the SAM transform (``Transform:`` names it)."""
    transform = template.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return any(isinstance(name, str) and name.startswith("AWS::Serverless") for name in names)
