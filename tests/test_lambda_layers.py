"""Layers of other accounts: AWS's public Powertools layers resolve, any other is refused.

Lambda developer guide, "Adding layers to functions" (a layer's content is extracted to /opt;
Python packages under python/ are importable) and "Granting layer access to other accounts"
(another account's layer is usable only when its publisher's policy allows it). Powertools for
AWS Lambda (Python), "Lambda Layer": the published ARNs
``arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python_version}-x86_64:N``.
"""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.awslambda import layers
from sandbox.testing import deploy, invoke, zip_files

REGION = "us-east-1"
V3_X86 = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64"


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


needs_pypi = pytest.mark.skipif(
    not _pypi_reachable(),
    reason="builds Powertools' layer from PyPI, which this machine cannot reach (CI can)")


# ---------------------------------------------------------------- the table, offline
def test_the_table_maps_layer_versions_to_package_versions():
    assert layers.powertools_family("AWSLambdaPowertoolsPythonV2") == ("V2", None)
    assert layers.powertools_family("AWSLambdaPowertoolsPythonV2-Arm64") == ("V2", None)
    assert layers.powertools_family("AWSLambdaPowertoolsPythonV3-python312-arm64") == \
        ("V3", "3.12")
    assert layers.powertools_family("AWSLambdaPowertoolsPythonV3-python312") is None
    # Powertools' docs/index.md at its v3.2.0 release names layer version 3
    assert layers.powertools_package("V3", 3) == "3.2.0"
    assert layers.powertools_package("V2", 62) == "2.33.1"
    assert layers.powertools_package("V3", 9999) is None


def test_an_unknown_version_of_a_powertools_layer_does_not_exist(sb):
    arn = f"{V3_X86}:9999"
    with pytest.raises(ClientError) as raised:
        deploy("tooled", "def handler(e, c):\n    return 1\n", runtime="python3.11",
               Layers=[arn])
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"].startswith(f"Layer version {arn} does not exist.")


def test_another_accounts_layer_is_refused_as_lambda_refuses_it(sb):
    arn = f"arn:aws:lambda:{REGION}:111122223333:layer:someone-elses:4"
    with pytest.raises(ClientError) as raised:
        deploy("borrower", "def handler(e, c):\n    return 1\n", Layers=[arn])
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AccessDeniedException"
    assert f"is not authorized to perform: lambda:GetLayerVersion on resource: {arn} " \
           "because no resource-based policy allows the lambda:GetLayerVersion action" \
           in error["Message"]
    assert "PublishLayerVersion" in error["Message"]  # how to publish one's own


def test_a_layer_of_the_same_name_in_another_account_is_not_ours(sb):
    # moto finds layers by name alone; the account in the ARN counts on AWS
    lam = boto3.client("lambda")
    mine = lam.publish_layer_version(LayerName="tools", Content={"ZipFile": zip_files(
        {"python/tools.py": "X = 1\n"})})["LayerVersionArn"]
    theirs = mine.replace(":123456789012:", ":111122223333:")
    with pytest.raises(ClientError) as raised:
        deploy("borrower", "def handler(e, c):\n    return 1\n", Layers=[theirs])
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_own_layers_are_on_the_path_in_the_functions_order(sb):
    # Lambda extracts layers in the order given; a later layer's file replaces an earlier one's
    lam = boto3.client("lambda")
    first = lam.publish_layer_version(LayerName="first", Content={"ZipFile": zip_files({
        "python/shared.py": "WHO = 'first'\n", "python/only_first.py": "X = 1\n"})})
    second = lam.publish_layer_version(LayerName="second", Content={"ZipFile": zip_files({
        "python/shared.py": "WHO = 'second'\n"})})
    deploy("ordered", "import shared, only_first\n"
                      "def handler(e, c):\n    return [shared.WHO, shared.__file__]\n",
           Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])
    who, path = invoke("ordered")["Payload"]
    assert who == "second"
    assert path.endswith("/python/shared.py")


# ---------------------------------------------------------------- the public layer, from PyPI
@pytest.mark.slow
@needs_pypi
def test_powertools_public_layer_runs_the_same_package_version(sb):
    arn = f"{V3_X86}:3"
    lam = boto3.client("lambda")
    deploy("tooled", "from aws_lambda_powertools import Logger, Metrics\n"
                     "from aws_lambda_powertools.shared.version import VERSION\n"
                     "import pydantic\n"
                     "logger = Logger(service='orders')\n"
                     "def handler(event, context):\n"
                     "    logger.info('hello')\n"
                     "    return [VERSION, pydantic.VERSION[0]]\n",
           runtime="python3.11", Layers=[arn])
    configuration = lam.get_function_configuration(FunctionName="tooled")
    assert [layer["Arn"] for layer in configuration["Layers"]] == [arn]
    version, pydantic_major = invoke("tooled")["Payload"]
    assert version == "3.2.0"  # layer version 3 holds aws-lambda-powertools 3.2.0
    assert pydantic_major == "2"  # the parser extra, bundled as the public layer bundles it


# ---------------------------------------------------------------- in a SAM template
SAM_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Tooled:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Layers:
        - {layer}
"""


def _sam_folder(tmp_path, layer: str, source: str):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(source)
    (tmp_path / "template.yaml").write_text(SAM_TEMPLATE.format(layer=layer))
    return tmp_path


def test_a_template_naming_another_accounts_layer_fails_with_lambdas_reason(sb, tmp_path):
    import sandbox
    from sandbox.errors import DeployError

    arn = f"arn:aws:lambda:{REGION}:111122223333:layer:someone-elses:4"
    folder = _sam_folder(tmp_path, arn, "def handler(e, c):\n    return 1\n")
    with pytest.raises(DeployError) as raised:
        sandbox.deploy(folder, stack_name="borrowed")
    assert "not authorized to perform: lambda:GetLayerVersion" in str(raised.value)


@pytest.mark.slow
@needs_pypi
def test_a_template_naming_the_powertools_layer_runs(sb, tmp_path):
    import sandbox

    folder = _sam_folder(tmp_path, "!Sub arn:aws:lambda:${AWS::Region}:017000801446:layer:"
                                   "AWSLambdaPowertoolsPythonV3-python311-x86_64:3",
                         "from aws_lambda_powertools.utilities.typing import LambdaContext\n"
                         "from aws_lambda_powertools.shared.version import VERSION\n"
                         "def handler(event, context: LambdaContext):\n"
                         "    return VERSION\n")
    sandbox.deploy(folder, stack_name="tooled")
    [name] = [f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]]
    assert invoke(name)["Payload"] == "3.2.0"
