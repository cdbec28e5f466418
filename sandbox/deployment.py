"""``sandbox.deploy("template.yaml")``: a SAM or CloudFormation template deployed as a stack, as
``sam build``, ``sam package`` and ``sam deploy`` would deploy it to AWS.

1. Package ("sam build", "sam package"): each local ``CodeUri`` folder (functions), ``ContentUri``
   (layers) and ``Code`` / ``Content`` path (plain Lambda resources) is zipped, a
   ``requirements.txt`` beside the code installed into the package by pip (pure-Python wheels,
   from pip's usual index, cached per user), and uploaded to the sandbox's artifact bucket; the
   template then names ``s3://`` locations, as ``sam package``'s output does. A local
   ``DefinitionUri`` (state machines, APIs) is read into the template. ``Metadata`` is ignored
   (``BuildMethod: makefile`` and the like need SAM CLI's builders).
2. Deploy ("sam deploy"): a change set, CREATE for a new stack and UPDATE for an existing one,
   executed, and waited for. A template or code that did not change makes no change ("No changes
   to deploy"). The sandbox's CloudFormation applies the SAM transform itself, with AWS's own
   translator (``sandbox/cloudformation/``).
3. The stack's outputs, with each API URL (``https://<id>.execute-api.<region>.amazonaws.com/
   <stage>/<path>``) given as the sandbox URL that reaches it (``sb.api_url(id, stage) +
   path``; an HTTP API's ``$default`` stage has no stage in its URL), and each S3 website URL
   as ``sb.website_url(bucket)``; ``Deployment.aws_outputs`` keeps the outputs as AWS shows
   them (``requests`` reaches those too while the sandbox runs).

Nothing is made when packaging fails (a dependency pip cannot install): packaging comes first.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .accounts import ACCOUNT_ID, REGION
from .cloudformation import template as templates
from .errors import DeployError, UnsupportedError

if TYPE_CHECKING:
    from .client import Sandbox

ARTIFACT_BUCKET = f"sandbox-sam-artifacts-{ACCOUNT_ID}-{REGION}"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = "didn't contain changes"
FINAL = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
         "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "DELETE_COMPLETE",
         "DELETE_FAILED", "CREATE_FAILED")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the same files make the same zip, and the same S3 key
SKIPPED = {"__pycache__", ".aws-sam", ".git", ".venv", ".ipynb_checkpoints"}
EXECUTE_API = re.compile(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com"
                         r"(/[^\s\"']*)?")
WEBSITE = re.compile(r"http://([a-z0-9.-]+)\.s3-website[-.][a-z0-9-]+\.amazonaws\.com"
                     r"(/[^\s\"']*)?")

PIP_FAILED = (
    "pip could not install {requirements} for {resource} (the sandbox installs pure-Python "
    "wheels, as 'sam build' would for a package without compiled code). Nothing was deployed. "
    "pip said:\n{output}\nCheck the names and versions in requirements.txt; a package that "
    "only ships compiled wheels or a source distribution cannot be installed here."
)
STACK_FAILED = (
    "The stack {stack!r} did not deploy: it is {status}. CloudFormation's events say:\n"
    "{events}\nFix the template and deploy again{hint}."
)


class StackDeployError(DeployError):
    """The stack failed (CREATE_FAILED then ROLLBACK_COMPLETE, or an update rolled back);
    ``events`` holds the stack's events, newest first, as CloudFormation lists them."""

    def __init__(self, message: str, status: str, events: list[dict[str, Any]]):
        super().__init__(message)
        self.status, self.events = status, events


class TemplateValidationError(DeployError):
    """CloudFormation refused the template before making anything (ValidationError)."""


@dataclass
class Deployment:
    """A deployed stack: its outputs (API URLs reachable from this notebook), as AWS shows them
    (``aws_outputs``), and what this deployment changed."""

    stack_name: str
    stack_id: str
    status: str
    outputs: dict[str, str]
    aws_outputs: dict[str, str]
    changes: list[dict[str, str]] = field(default_factory=list)  # action, logical id, type

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def __getitem__(self, key: str) -> str:
        return self.outputs[key]

    def __repr__(self) -> str:
        lines = [f"<Deployment of stack {self.stack_name!r}: {self.status}, "
                 f"{len(self.changes) or 'no'} change{'s' if len(self.changes) != 1 else ''}>"]
        lines += [f"  {key} = {value}" for key, value in self.outputs.items()]
        return "\n".join(lines)


# ---------------------------------------------------------------------- packaging
@dataclass
class Artifact:
    """A zip to upload, under a key named after its contents."""

    data: bytes

    @property
    def key(self) -> str:
        return hashlib.sha256(self.data).hexdigest() + ".zip"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "serverless-sandbox" / "sam-dependencies"


def _python_version(runtime: str | None) -> str:
    match = re.fullmatch(r"python(\d)\.(\d+)", runtime or "")
    return f"{match.group(1)}.{match.group(2)}" if match else "3.12"


def install_requirements(requirements: Path, runtime: str | None, resource: str) -> Path:
    """A folder holding what ``requirements.txt`` asks for, installed by pip (pure-Python
    wheels for the runtime's Python), cached by the file's contents."""
    text = requirements.read_text()
    version = _python_version(runtime)
    digest = hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()[:24]
    target = _cache_root() / digest
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=target.parent))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-input", "--target", str(staging), "--only-binary=:all:",
               "--implementation", "py", "--abi", "none", "--platform", "any",
               "--python-version", version, "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stderr.strip() or result.stdout.strip())[-3000:]
        raise DeployError(PIP_FAILED.format(requirements=requirements, resource=resource,
                                            output=output))
    for leftover in staging.glob("*.dist-info"):
        # records of the install; the function does not import them
        (leftover / "RECORD").unlink(missing_ok=True)
    try:
        staging.rename(target)
    except OSError:  # another deploy cached the same requirements meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def zip_folders(*folders: tuple[Path, str]) -> bytes:
    """A deterministic zip of each folder's files, under its prefix in the archive."""
    entries: dict[str, Path] = {}
    for folder, prefix in folders:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if any(part in SKIPPED or part.endswith(".pyc") for part in relative.parts):
                continue
            if path.is_file():
                entries[prefix + relative.as_posix()] = path
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            executable = os.stat(entries[name]).st_mode & stat.S_IXUSR
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name].read_bytes())
    return buffer.getvalue()


class Packager:
    """``sam build`` and ``sam package`` for one template: local paths become S3 locations."""

    def __init__(self, template_dir: Path):
        self.template_dir = template_dir
        self.artifacts: dict[str, Artifact] = {}

    def _local(self, value: Any, what: str, resource: str) -> Path | None:
        if not isinstance(value, str) or value.startswith("s3://"):
            return None
        path = (self.template_dir / value).resolve()
        if not path.exists():
            raise DeployError(f"{resource}: {what} {value!r} names no file or folder (looked "
                              f"for {path}). Paths are relative to the template's folder.")
        return path

    def _upload(self, data: bytes) -> tuple[str, str]:
        artifact = Artifact(data)
        self.artifacts[artifact.key] = artifact
        return ARTIFACT_BUCKET, artifact.key

    def code(self, path: Path, runtime: str | None, resource: str, *,
             layer_prefix: str = "") -> tuple[str, str]:
        if path.is_file():
            if path.suffix in (".zip", ".jar"):
                return self._upload(path.read_bytes())
            folders = [(path.parent, layer_prefix)]  # a single file: the folder is the package
        else:
            folders = [(path, layer_prefix)]
            requirements = path / "requirements.txt"
            if requirements.is_file() and requirements.read_text().strip():
                folders.insert(0, (install_requirements(requirements, runtime, resource),
                                   layer_prefix))
        return self._upload(zip_folders(*folders))

    def include(self, value: Any) -> Any:
        """``Fn::Transform: {Name: AWS::Include, Parameters: {Location: ./file}}`` with a local
        Location: ``sam package`` uploads the file and CloudFormation's AWS::Include transform
        puts its contents in place ("AWS::Include transform", CloudFormation User Guide); the
        sandbox puts them in place at once."""
        if isinstance(value, list):
            return [self.include(item) for item in value]
        if not isinstance(value, dict):
            return value
        transform = value.get("Fn::Transform")
        if len(value) == 1 and isinstance(transform, dict) \
                and transform.get("Name") == "AWS::Include":
            location = (transform.get("Parameters") or {}).get("Location")
            path = self._local(location, "AWS::Include Location", "Fn::Transform")
            if path is not None:
                return self.include(templates.loads(path.read_text(), str(path)))
        return {key: self.include(item) for key, item in value.items()}

    def package(self, document: dict[str, Any]) -> dict[str, Any]:
        """The template as ``sam package`` writes it, the artifacts collected on the way."""
        document = self.include(document)
        globals_function = (document.get("Globals") or {}).get("Function") or {}
        for logical_id, resource in (document.get("Resources") or {}).items():
            if not isinstance(resource, dict):
                continue
            kind, props = resource.get("Type"), resource.setdefault("Properties", {}) or {}
            resource["Properties"] = props
            if kind == "AWS::Serverless::Function":
                if (props.get("PackageType") or globals_function.get("PackageType")) == "Image":
                    raise UnsupportedError(
                        f"{logical_id}: PackageType Image needs a container image, which the "
                        "sandbox cannot run (it has no Docker). Use a .zip package (CodeUri).")
                if "InlineCode" in props:
                    continue
                uri = props.get("CodeUri", globals_function.get("CodeUri"))
                path = self._local(uri, "CodeUri", logical_id)
                if path is not None:
                    runtime = props.get("Runtime", globals_function.get("Runtime"))
                    bucket, key = self.code(path, runtime, logical_id)
                    props["CodeUri"] = f"s3://{bucket}/{key}"
            elif kind == "AWS::Serverless::LayerVersion":
                path = self._local(props.get("ContentUri"), "ContentUri", logical_id)
                if path is not None:
                    bucket, key = self.code(path, None, logical_id)
                    props["ContentUri"] = f"s3://{bucket}/{key}"
            elif kind == "AWS::Lambda::Function":
                path = self._local(props.get("Code"), "Code", logical_id)
                if path is not None:
                    bucket, key = self.code(path, props.get("Runtime"), logical_id)
                    props["Code"] = {"S3Bucket": bucket, "S3Key": key}
            elif kind == "AWS::Lambda::LayerVersion":
                path = self._local(props.get("Content"), "Content", logical_id)
                if path is not None:
                    bucket, key = self.code(path, None, logical_id)
                    props["Content"] = {"S3Bucket": bucket, "S3Key": key}
            elif kind == "AWS::Serverless::StateMachine":
                path = self._local(props.get("DefinitionUri"), "DefinitionUri", logical_id)
                if path is not None:
                    props.pop("DefinitionUri")
                    props["Definition"] = templates.loads(path.read_text(), str(path))
            elif kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
                path = self._local(props.get("DefinitionUri"), "DefinitionUri", logical_id)
                if path is not None:
                    props.pop("DefinitionUri")
                    props["DefinitionBody"] = templates.loads(path.read_text(), str(path))
        return document


# ---------------------------------------------------------------------- deploying
def deploy(template: str | os.PathLike[str], *, parameters: dict[str, Any] | None = None,
           stack_name: str | None = None, sandbox: Sandbox | None = None,
           timeout: float = 120.0) -> Deployment:
    """Deploy ``template`` (a SAM or CloudFormation template file) as the stack ``stack_name``
    (default: the template's folder name), with ``parameters``; return its outputs.

    A stack left in ROLLBACK_COMPLETE by a failed first deployment is deleted first, as it
    must be on AWS before a stack of that name can be created again."""
    from .client import start

    sb = sandbox or start()
    path = Path(template)
    if path.is_dir():
        path = path / "template.yaml"
    if not path.is_file():
        raise DeployError(f"No template at {path}: give the path of a template.yaml (or of "
                          "the folder holding it).")
    name = stack_name or _default_stack_name(path)
    given = {key: _parameter_value(value) for key, value in (parameters or {}).items()}
    packager = Packager(path.parent)
    document = packager.package(templates.loads(path.read_text(), str(path)))
    return deploy_template(sb, document, name, given, artifacts=packager.artifacts,
                           timeout=timeout)


def _default_stack_name(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9-]", "-", path.resolve().parent.name).strip("-") or "sam-app"
    return name if name[0].isalpha() else f"stack-{name}"


def _parameter_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def deploy_template(sb: Sandbox, document: dict[str, Any], stack_name: str,
                    parameters: dict[str, str], *, artifacts: dict[str, Artifact] | None = None,
                    timeout: float = 120.0) -> Deployment:
    """Upload ``artifacts``, then create or update the stack from the packaged ``document`` by
    a change set, as ``sam deploy`` does."""
    import boto3
    from botocore.exceptions import ClientError

    sb._require_running()
    if artifacts:
        _upload(boto3.client("s3"), artifacts)
    cfn = boto3.client("cloudformation")
    existing = _stack(cfn, stack_name)
    if existing is not None and existing["StackStatus"] in ("ROLLBACK_COMPLETE",
                                                            "ROLLBACK_FAILED"):
        cfn.delete_stack(StackName=stack_name)
        existing = None
    kind = "CREATE" if existing is None or existing["StackStatus"] == "REVIEW_IN_PROGRESS" \
        else "UPDATE"
    change_set_name = f"sandbox-deploy-{int(time.time() * 1000)}"
    try:
        created = cfn.create_change_set(
            StackName=stack_name, ChangeSetName=change_set_name, ChangeSetType=kind,
            TemplateBody=json.dumps(document),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=CAPABILITIES)
    except ClientError as error:
        if "No updates are to be performed" in error.response["Error"]["Message"]:
            # moto answers an unchanged change set as UpdateStack does (AWS makes a FAILED
            # change set, "didn't contain changes", handled below)
            return _deployment(sb, cfn, stack_name, [])
        raise TemplateValidationError(
            f"CloudFormation refused the template ({error.response['Error']['Code']}): "
            f"{error.response['Error']['Message']}. Nothing was deployed.") from None
    change_set = cfn.describe_change_set(ChangeSetName=created["Id"], StackName=stack_name)
    if change_set["Status"] == "FAILED":
        cfn.delete_change_set(ChangeSetName=created["Id"], StackName=stack_name)
        if NO_CHANGES not in change_set.get("StatusReason", ""):
            raise TemplateValidationError(f"The change set failed: "
                                          f"{change_set.get('StatusReason')}")
        return _deployment(sb, cfn, stack_name, [])
    changes = [{"Action": c["ResourceChange"]["Action"],
                "LogicalResourceId": c["ResourceChange"]["LogicalResourceId"],
                "ResourceType": c["ResourceChange"]["ResourceType"]}
               for c in change_set.get("Changes", [])]
    cfn.execute_change_set(ChangeSetName=created["Id"], StackName=stack_name)
    status = _wait(cfn, stack_name, timeout)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        events = cfn.describe_stack_events(StackName=created["StackId"])["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"].endswith("FAILED")
                  or e["ResourceStatus"].endswith("ROLLBACK_IN_PROGRESS")]
        lines = "\n".join(f"  {e['ResourceStatus']:<28} {e['ResourceType']:<32} "
                          f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason') or ''}"
                          for e in failed)
        hint = (" (the failed stack stays, to be read, until the next deploy replaces it)"
                if kind == "CREATE" else "")
        raise StackDeployError(STACK_FAILED.format(stack=stack_name, status=status,
                                                   events=lines, hint=hint), status, events)
    return _deployment(sb, cfn, stack_name, changes)


def _upload(s3: Any, artifacts: dict[str, Artifact]) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=ARTIFACT_BUCKET)
    except ClientError:
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    present = {item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=ARTIFACT_BUCKET) for item in page.get("Contents", [])}
    for key, artifact in artifacts.items():
        if key not in present:  # named after its contents: an unchanged package is not sent
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=artifact.data)


def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks: list[dict[str, Any]] = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return None
    return stacks[0] if stacks else None


def _wait(cfn: Any, name: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        stack = _stack(cfn, name)
        status = "DELETE_COMPLETE" if stack is None else str(stack["StackStatus"])
        if status in FINAL or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def _deployment(sb: Sandbox, cfn: Any, stack_name: str,
                changes: list[dict[str, str]]) -> Deployment:
    stack = _stack(cfn, stack_name)
    assert stack is not None
    aws = {o["OutputKey"]: str(o["OutputValue"]) for o in stack.get("Outputs") or []}
    return Deployment(stack_name=stack_name, stack_id=stack["StackId"],
                      status=stack["StackStatus"],
                      outputs={k: sandbox_urls(sb, v) for k, v in aws.items()},
                      aws_outputs=aws, changes=changes)


def sandbox_urls(sb: Sandbox, value: str) -> str:
    """``value`` with each API Gateway URL (``https://<api>.execute-api.<region>.amazonaws.com/
    <stage>/<path>``) written as the sandbox URL that reaches the same stage and path."""
    import boto3

    def local(match: re.Match[str]) -> str:
        api_id, rest = match.group(1), (match.group(2) or "")
        parts = rest.lstrip("/").split("/", 1)
        first, remainder = parts[0], (parts[1] if len(parts) > 1 else "")
        try:
            stages = [s["StageName"] for s in
                      boto3.client("apigatewayv2").get_stages(ApiId=api_id)["Items"]]
            http_api = True
        except Exception:  # noqa: BLE001  (not an HTTP API: a REST API)
            stages, http_api = [], False
        if http_api and first not in stages:
            return sb.api_url(api_id, "$default") + rest  # the $default stage: no stage in URLs
        return sb.api_url(api_id, first) + "/" + remainder

    value = EXECUTE_API.sub(local, value)
    return WEBSITE.sub(lambda match: sb.website_url(match.group(1)) + (match.group(2) or "")
                       .lstrip("/"), value)


def delete(stack_name: str, *, sandbox: Sandbox | None = None) -> None:
    """Delete the stack and everything it made (CloudFormation's DeleteStack)."""
    import boto3

    from .client import start

    (sandbox or start())._require_running()
    boto3.client("cloudformation").delete_stack(StackName=stack_name)
