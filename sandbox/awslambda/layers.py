"""Layers from other accounts: AWS's public Powertools for AWS Lambda (Python) layers, and the
refusal every other account's layer gets.

moto looks a layer version up by its name alone, whatever account its ARN names
(moto/awslambda/models.py LayerStorage.get_layer_version_by_arn), and knows no public layer, so
a template that names Powertools' published ARN fails with "LayerVersion does not exist".
Here (a row of ``sandbox.seams`` wrapping ``LambdaBackend.layers_versions_by_arn``):

- a layer of the function's own account and Region is moto's, as before;
- Powertools' public layers (account 017000801446, ``AWSLambdaPowertoolsPythonV2[-Arm64]:<n>``
  and ``AWSLambdaPowertoolsPythonV3-python3XX-x86_64|arm64:<n>``) are built from the same
  ``aws-lambda-powertools`` version on PyPI, with every extra as Powertools' own layer bundles
  them (``include_extras=True`` in its layer_v3/layer/layer_stack.py), into ``python/`` as the
  layer holds it; built once per version and kept in the user's cache folder. Which package
  version each layer version holds is ``powertools_layers.json`` (sourced there); a version it
  does not list fails as Lambda fails for a layer version that does not exist;
- any other account's layer fails as Lambda fails for a layer the account may not use.

Layers are extracted into one folder in the order the function lists them and shown as
``/opt``: ``/opt/python`` is on the handler's path (``sandbox/runtime/environment.py``).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.awslambda.exceptions import LambdaClientError

POWERTOOLS_ACCOUNT = "017000801446"
TABLE = Path(__file__).with_name("powertools_layers.json")
_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):"
                  r"(?P<account>\d{12}):layer:(?P<name>[A-Za-z0-9_-]+):(?P<version>\d+)")
_V2 = re.compile(r"AWSLambdaPowertoolsPythonV2(-Arm64)?")
_V3 = re.compile(r"AWSLambdaPowertoolsPythonV3-python3(?P<minor>\d+)-(x86_64|arm64)")
# what Lambda's Python runtime already provides: Powertools' layer build leaves it out
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")

NOT_AUTHORIZED = (
    "User: {caller} is not authorized to perform: lambda:GetLayerVersion on resource: {arn} "
    "because no resource-based policy allows the lambda:GetLayerVersion action. (Sandbox: the "
    "only layers of other accounts the sandbox knows are AWS's public Powertools for AWS Lambda "
    "(Python) layers of account 017000801446. Publish your own layer instead: zip the packages "
    "under python/ and call PublishLayerVersion, or declare an AWS::Serverless::LayerVersion "
    "with ContentUri in your template, then use the ARN it returns.)"
)
NO_SUCH_VERSION = "Layer version {arn} does not exist."
NO_SUCH_VERSION_NOTE = (
    " (Sandbox: the Powertools layer versions the sandbox can build are listed in "
    "sandbox/awslambda/powertools_layers.json: {known}. If AWS publishes this one, add its row "
    "there.)"
)
BUILD_FAILED = (
    "The sandbox builds AWS's public layer {arn} from the PyPI package "
    "aws-lambda-powertools=={package} (once; then it is cached in {cache}), and pip could not "
    "install it, so the function cannot be created. pip said:\n{output}\nWhere this machine "
    "cannot reach PyPI, add Powertools to your function's requirements.txt or publish your "
    "own layer instead."
)


class LayerAccessDenied(LambdaClientError):
    code = 403

    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


class LayerVersionNotFound(LambdaClientError):
    def __init__(self, message: str):
        super().__init__("InvalidParameterValueException", message)


class PublicLayerUnavailable(LambdaClientError):
    def __init__(self, message: str):
        super().__init__("Sandbox.PublicLayerUnavailable", message)


@dataclass(frozen=True)
class LayerArn:
    partition: str
    region: str
    account: str
    name: str
    version: int

    @classmethod
    def parse(cls, arn: str) -> LayerArn | None:
        found = _ARN.fullmatch(arn)
        if found is None:
            return None
        return cls(found["partition"], found["region"], found["account"], found["name"],
                   int(found["version"]))


@functools.cache
def _table() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TABLE.read_text())
    return loaded


def powertools_family(name: str) -> tuple[str, str | None] | None:
    """("V2", None) or ("V3", "3.12") for a Powertools layer's name; None for any other."""
    if _V2.fullmatch(name):
        return "V2", None
    found = _V3.fullmatch(name)
    if found:
        return "V3", f"3.{found['minor']}"
    return None


def powertools_package(family: str, version: int) -> str | None:
    """The ``aws-lambda-powertools`` version a Powertools layer version holds, if known."""
    row = _table()[family].get(str(version))
    return None if row is None else str(row["package"])


def known_versions(family: str) -> list[int]:
    return sorted(int(n) for n in _table()[family])


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "serverless-sandbox" / "public-layers"


def _interpreter_version(python: str | None) -> str:
    """The Python the layer's compiled extras are for: the interpreter that runs the layer's
    runtime here (``sandbox/runtime/interpreters.py``), or the sandbox's own."""
    if python is not None:
        from ..runtime import interpreters

        return interpreters.for_runtime(f"python{python}").version
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def build_powertools(package: str, python: str | None, arn: str) -> Path:
    """A folder holding ``python/`` with ``aws-lambda-powertools[all]==package`` installed for
    ``python`` (this machine's platform: an arm64 layer runs on this machine's processor too).
    Built once, then reused from the cache."""
    version = _interpreter_version(python)
    machine = platform.machine() or "x86_64"
    target = _cache_root() / f"powertools-{package}-py{version}-{machine}"
    if (target / "python").is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-input", "--timeout", "30", "--target", str(staging / "python"),
               "--only-binary=:all:", "--python-version", version,
               "--platform", f"manylinux2014_{machine}", "--platform", "any",
               f"aws-lambda-powertools[all]=={package}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=600)
        failed, output = result.returncode != 0, (result.stderr or result.stdout).strip()
    except subprocess.TimeoutExpired:
        failed, output = True, "(no answer from pip in 10 minutes)"
    if failed:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublicLayerUnavailable(BUILD_FAILED.format(
            arn=arn, package=package, cache=target, output=output[-2000:]))
    site = staging / "python"
    for entry in list(site.iterdir()):
        stem = entry.name.split("-")[0].lower()
        if stem in RUNTIME_PROVIDED or entry.name == "bin":
            shutil.rmtree(entry, ignore_errors=True)
    for record in site.glob("*.dist-info/RECORD"):
        record.unlink()
    try:
        staging.rename(target)
    except OSError:  # another process built the same layer meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


@functools.cache
def _zipped(folder: str) -> bytes:
    from ..deployment import zip_folders

    return zip_folders((Path(folder), ""))


def public_layer_version(arn: LayerArn, package: str, python: str | None) -> Any:
    """A moto LayerVersion of Powertools' account holding the built package."""
    from moto.awslambda.models import LayerVersion

    make: Any = LayerVersion  # (moto's CloudFormationModel leaves abstract methods to mypy)
    text = f"arn:{arn.partition}:lambda:{arn.region}:{arn.account}:layer:{arn.name}:{arn.version}"
    folder = build_powertools(package, python, text)
    data = _zipped(str(folder))
    layer = make({
        "LayerName": arn.name,
        "Content": {"ZipFile": base64.b64encode(data).decode()},
        "Description": f"Powertools for AWS Lambda (Python) version {package} "
                       "(built by the sandbox from PyPI)",
        "CompatibleRuntimes": [f"python{python}"] if python else [],
        "LicenseInfo": "MIT-0",
    }, account_id=arn.account, region=arn.region)
    layer.version = arn.version
    return layer


_Looking = Callable[[Any, str], Any]


def layers_versions_by_arn(original: _Looking) -> _Looking:
    """Wrap ``LambdaBackend.layers_versions_by_arn`` (CreateFunction, UpdateFunctionConfiguration
    and each new environment look layers up through it)."""
    built: dict[str, Any] = {}

    def layers_versions_by_arn(self: Any, layer_version_arn: str) -> Any:
        arn = LayerArn.parse(layer_version_arn)
        if arn is None or arn.account == self.account_id:
            return original(self, layer_version_arn)
        family = powertools_family(arn.name) if arn.account == POWERTOOLS_ACCOUNT else None
        if family is None:
            # a layer is usable from another account only when its publisher allows it
            # (Lambda developer guide, "Granting layer access to other accounts")
            raise LayerAccessDenied(NOT_AUTHORIZED.format(
                caller=f"arn:aws:iam::{self.account_id}:root", arn=layer_version_arn))
        package = powertools_package(family[0], arn.version)
        if package is None:
            known = ", ".join(map(str, known_versions(family[0])))
            raise LayerVersionNotFound(NO_SUCH_VERSION.format(arn=layer_version_arn)
                                       + NO_SUCH_VERSION_NOTE.format(known=known))
        if layer_version_arn not in built:
            built[layer_version_arn] = public_layer_version(arn, package, family[1])
        return built[layer_version_arn]

    return layers_versions_by_arn
