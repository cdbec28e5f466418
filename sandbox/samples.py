"""``course samples DIR``: deploy folders of serverless code unchanged and drive them.

A sample is a folder holding ``template.yaml`` (or ``template.yml``, ``template.json``): a SAM or
CloudFormation template and the code it names, as public sample repositories ship them. Each is
deployed with :func:`sandbox.deploy` into a fresh sandbox (``sb.reset()`` between samples),
then driven as its own README or tests drive it, by the steps of a *drive file*,
``samples.json``, which a course author writes next to the samples (never inside them: the
samples stay unchanged)::

    {"apigw-lambda": {"parameters": {"Stage": "dev"},
                      "steps": [{"http": "GET", "url": "${Output:ApiUrl}", "expect_status": 200}]}}

Without a drive file's entry, every state machine of the stack is started with ``{}`` and must
succeed, and every output that is an API URL is fetched with GET and must answer below 500.

Steps (strings may name ``${Ref:LogicalId}`` for a resource's physical ID, ``${Arn:LogicalId}``
for its ARN where the sandbox can tell it, ``${Output:Key}`` for a stack output (an API's URL as
the sandbox serves it), ``${ApiUrl:Api:stage}`` for an API stage's base URL):

- ``{"invoke": "Fn", "event": {...} | "event_file": "events/x.json", "expect": {...}}``: a
  synchronous invocation must not raise (``FunctionError``); ``expect`` is a subset of the
  payload;
- ``{"http": "GET", "url": "...", "body": ..., "headers": {...}, "expect_status": 200}``;
- ``{"start_execution": "StateMachine", "input": {...}, "expect_status": "SUCCEEDED",
  "expect": {...}}`` (``expect_status`` may list several; ``expect``: a subset of the output);
- ``{"put_object": "Bucket", "key": "...", "body": "..."}``, ``{"send_message": "Queue",
  "body": "..."}``, ``{"publish": "Topic", "message": "..."}``, ``{"put_events": [entries]}``,
  ``{"put_item": "Table", "item": {...}}`` (plain JSON, typed as DynamoDB's resource API types);
- ``{"settle": true}``: wait until every event has been delivered;
  ``{"wait_executions": "StateMachine"}``: until an event has started it and no execution of it
  is running;
- ``{"expect_logs": "Fn", "contains": "..."}``, ``{"expect_objects": "Bucket", "min": 1}``,
  ``{"expect_items": "Table", "min": 1}``, ``{"expect_messages": "Queue", "min": 1}``.

A sample *passed* when it deployed and every step did; *partly* when it deployed and a step
failed; *failed* when it did not deploy.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
DRIVE_FILE = "samples.json"
_REFERENCE = re.compile(r"\$\{(Ref|Arn|Output|ApiUrl):([^}]+)\}")


@dataclass
class Step:
    """One step's outcome."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class SampleResult:
    """One sample: deployed or not, each step's outcome, and how long each part took."""

    name: str
    status: str  # passed, partly, failed
    detail: str = ""
    steps: list[Step] = field(default_factory=list)
    deploy_seconds: float = 0.0

    def row(self) -> str:
        failed = [f"{s.name}: {s.detail}" for s in self.steps if not s.ok]
        why = self.detail or "; ".join(failed) or f"{len(self.steps)} step(s) ok"
        return f"| {self.name} | {self.status} | {_one_line(why)} |"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def find_samples(root: Path) -> list[Path]:
    """The sample folders under ``root`` (``root`` itself when it holds a template), sorted."""
    if any((root / name).is_file() for name in TEMPLATE_NAMES):
        return [root]
    found = []
    for template in sorted(root.rglob("template.*")):
        if template.name in TEMPLATE_NAMES and not any(
                part.startswith(".") or part in ("node_modules", ".aws-sam")
                for part in template.relative_to(root).parts):
            found.append(template.parent)
    # a sample's nested templates (a sub-application) are part of it, not samples of their own
    return [path for path in found if not any(other != path and other in path.parents
                                               for other in found)]


def load_drive_file(root: Path) -> dict[str, Any]:
    path = root / DRIVE_FILE
    if not path.is_file():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


class Driver:
    """Runs one sample's steps against its deployed stack."""

    def __init__(self, sb: Any, folder: Path, stack_name: str, outputs: dict[str, str]):
        import boto3

        self.sb = sb
        self.folder = folder
        self.outputs = outputs
        self.resources = {
            r["LogicalResourceId"]: r for r in boto3.client("cloudformation")
            .describe_stack_resources(StackName=stack_name)["StackResources"]}

    # ------------------------------------------------------------------ references
    def physical(self, logical: str) -> str:
        if logical in self.resources:
            return str(self.resources[logical].get("PhysicalResourceId", logical))
        return logical  # a name given directly

    def arn(self, logical: str) -> str:
        physical = self.physical(logical)
        if physical.startswith("arn:"):
            return physical
        kind = self.resources.get(logical, {}).get("ResourceType", "")
        region, account = _region(), "123456789012"
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{region}:{account}:{physical.rsplit('/', 1)[-1]}"
        if kind == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{region}:{account}:function:{physical}"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{region}:{account}:table/{physical}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{physical}"
        return physical

    def expand(self, value: Any) -> Any:
        if isinstance(value, str):
            def replace(found: re.Match[str]) -> str:
                kind, key = found.group(1), found.group(2)
                if kind == "Output":
                    return self.outputs[key]
                if kind == "ApiUrl":  # ${ApiUrl:Api:stage}: the stage's base URL, no slash
                    api, _, stage = key.partition(":")
                    return str(self.sb.api_url(self.physical(api), stage or "$default"))
                return self.arn(key) if kind == "Arn" else self.physical(key)
            return _REFERENCE.sub(replace, value)
        if isinstance(value, list):
            return [self.expand(item) for item in value]
        if isinstance(value, dict):
            return {key: self.expand(item) for key, item in value.items()}
        return value

    # ------------------------------------------------------------------ steps
    def run(self, step: dict[str, Any]) -> Step:
        step = self.expand(step)
        kind = next((key for key in step if key in STEP_KINDS), None)
        if kind is None:
            return Step(json.dumps(step)[:60], False, f"no known step kind in {sorted(step)}")
        name = f"{kind} {step[kind]}" if isinstance(step[kind], str) else kind
        try:
            detail = STEP_KINDS[kind](self, step)
        except Exception as e:  # a step's failure is the sample's result, not the harness's
            return Step(name, False, f"{type(e).__name__}: {e}")
        return Step(name, True, detail or "")

    def invoke(self, step: dict[str, Any]) -> str:
        import boto3

        if "event_file" in step:
            event = json.loads((self.folder / step["event_file"]).read_text())
        else:
            event = step.get("event", {})
        target = step["invoke"]
        if not target.startswith("arn:") and ":" in target:  # "Function:alias" or ":version"
            logical, _, qualifier = target.partition(":")
            target = f"{self.physical(logical)}:{qualifier}"
        else:
            target = self.physical(target)
        response = boto3.client("lambda").invoke(FunctionName=target,
                                                 Payload=json.dumps(event).encode())
        payload: str = response["Payload"].read().decode()
        if response.get("FunctionError"):
            raise AssertionError(f"the function failed: {payload[:300]}")
        _expect_subset(step.get("expect"), json.loads(payload) if payload else None)
        return payload[:120]

    def http(self, step: dict[str, Any]) -> str:
        if not _local(step["url"]):
            raise AssertionError(f"{step['url']} is not the sandbox's: the harness calls only "
                                 "URLs on this machine (an API's output URL, as sandbox.deploy "
                                 "gives it), never the network")
        body = step.get("body")
        data = None if body is None else (body if isinstance(body, str)
                                          else json.dumps(body)).encode()
        request = urllib.request.Request(step["url"], data=data, method=step["http"],
                                         headers=step.get("headers", {}))
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, text = answer.status, answer.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        wanted = step.get("expect_status")
        if (wanted is not None and status != wanted) or (wanted is None and status >= 500):
            raise AssertionError(f"HTTP {status} (expected {wanted or 'below 500'}): "
                                 f"{text[:300]}")
        _expect_subset(step.get("expect"), _maybe_json(text))
        return f"HTTP {status}"

    def start_execution(self, step: dict[str, Any]) -> str:
        import boto3

        sfn = boto3.client("stepfunctions")
        arn = self.physical(step["start_execution"])
        started = sfn.start_execution(stateMachineArn=arn,
                                      input=json.dumps(step.get("input", {})))
        deadline = time.monotonic() + float(step.get("timeout", 120))
        while True:
            described = sfn.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        wanted = step.get("expect_status", "SUCCEEDED")  # or a list of the statuses allowed
        if described["status"] not in (wanted if isinstance(wanted, list) else [wanted]):
            raise AssertionError(f"execution {described['status']} (expected {wanted}): "
                                 f"{described.get('error', '')} {described.get('cause', '')}"
                                 [:400])
        if "expect" in step:
            _expect_subset(step["expect"], json.loads(described.get("output") or "null"))
        return str(described["status"])

    def wait_executions(self, step: dict[str, Any]) -> str:
        """Until the state machine has executions and none is RUNNING (an event started them)."""
        import boto3

        sfn = boto3.client("stepfunctions")
        arn = self.physical(step["wait_executions"])
        deadline = time.monotonic() + float(step.get("timeout", 60))
        while True:
            listed = sfn.list_executions(stateMachineArn=arn)["executions"]
            if listed and all(e["status"] != "RUNNING" for e in listed):
                return ", ".join(sorted(e["status"] for e in listed))
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(listed)} execution(s), still running or none "
                                     "started, after the timeout")
            time.sleep(0.1)

    def put_object(self, step: dict[str, Any]) -> str:
        import boto3

        body = step.get("body", "")
        boto3.client("s3").put_object(Bucket=self.physical(step["put_object"]), Key=step["key"],
                                      Body=body if isinstance(body, str) else json.dumps(body))
        return ""

    def send_message(self, step: dict[str, Any]) -> str:
        import boto3

        queue = self.physical(step["send_message"])
        body = step.get("body", "")
        extra = {key: step[key] for key in ("MessageGroupId", "MessageDeduplicationId")
                 if key in step}
        boto3.client("sqs").send_message(
            QueueUrl=queue, MessageBody=body if isinstance(body, str) else json.dumps(body),
            **extra)
        return ""

    def publish(self, step: dict[str, Any]) -> str:
        import boto3

        message = step.get("message", "")
        boto3.client("sns").publish(
            TopicArn=self.physical(step["publish"]),
            Message=message if isinstance(message, str) else json.dumps(message))
        return ""

    def put_events(self, step: dict[str, Any]) -> str:
        import boto3

        entries = [{**entry, "Detail": entry["Detail"] if isinstance(entry["Detail"], str)
                    else json.dumps(entry["Detail"])} for entry in step["put_events"]]
        answer = boto3.client("events").put_events(Entries=entries)
        if answer["FailedEntryCount"]:
            raise AssertionError(f"PutEvents failed: {answer['Entries']}")
        return ""

    def put_item(self, step: dict[str, Any]) -> str:
        import boto3

        boto3.resource("dynamodb").Table(self.physical(step["put_item"])).put_item(
            Item=json.loads(json.dumps(step["item"]), parse_float=_decimal))
        return ""

    def settle(self, step: dict[str, Any]) -> str:
        if not self.sb.settle(float(step.get("timeout", 60))):
            raise AssertionError("events were still in flight after the timeout")
        return ""

    def expect_logs(self, step: dict[str, Any]) -> str:
        import boto3

        group = f"/aws/lambda/{self.physical(step['expect_logs'])}"
        logs = boto3.client("logs")
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if not any(step.get("contains", "") in event["message"] for event in events):
            raise AssertionError(f"no log line of {group} contains {step.get('contains')!r} "
                                 f"({len(events)} lines)")
        return f"{len(events)} log lines"

    def expect_objects(self, step: dict[str, Any]) -> str:
        import boto3

        bucket = self.physical(step["expect_objects"])
        count = boto3.client("s3").list_objects_v2(
            Bucket=bucket, Prefix=step.get("prefix", "")).get("KeyCount", 0)
        return _at_least(count, step, f"objects in {bucket}")

    def expect_items(self, step: dict[str, Any]) -> str:
        import boto3

        table = self.physical(step["expect_items"])
        count = boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
        return _at_least(count, step, f"items in {table}")

    def expect_messages(self, step: dict[str, Any]) -> str:
        import boto3

        queue = self.physical(step["expect_messages"])
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return _at_least(int(attributes["ApproximateNumberOfMessages"]), step,
                         f"messages in {queue}")


STEP_KINDS: dict[str, Callable[[Driver, dict[str, Any]], str]] = {
    "invoke": Driver.invoke, "http": Driver.http, "start_execution": Driver.start_execution,
    "put_object": Driver.put_object, "send_message": Driver.send_message,
    "publish": Driver.publish, "put_events": Driver.put_events, "put_item": Driver.put_item,
    "settle": Driver.settle, "wait_executions": Driver.wait_executions,
    "expect_logs": Driver.expect_logs,
    "expect_objects": Driver.expect_objects, "expect_items": Driver.expect_items,
    "expect_messages": Driver.expect_messages,
}


def _local(url: str) -> bool:
    """A URL of this machine's loopback (where sandbox.deploy puts an API's output URL)."""
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def _region() -> str:
    import boto3

    return boto3.session.Session().region_name or "us-east-1"


def _decimal(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _at_least(count: int, step: dict[str, Any], what: str) -> str:
    wanted = int(step.get("min", 1))
    if count < wanted:
        raise AssertionError(f"{count} {what} (expected at least {wanted})")
    return f"{count} {what}"


def _expect_subset(wanted: Any, got: Any) -> None:
    if wanted is None:
        return
    if isinstance(wanted, dict) and isinstance(got, dict):
        for key, value in wanted.items():
            if key not in got:
                raise AssertionError(f"no {key!r} in {json.dumps(got)[:200]}")
            _expect_subset(value, got[key])
    elif wanted != got:
        raise AssertionError(f"expected {wanted!r}, got {got!r}"[:300])


def default_steps(driver: Driver) -> list[dict[str, Any]]:
    """Without a drive file's entry: start each state machine, GET each API URL output."""
    steps: list[dict[str, Any]] = [
        {"start_execution": logical} for logical, resource in driver.resources.items()
        if resource["ResourceType"] == "AWS::StepFunctions::StateMachine"]
    steps += [{"http": "GET", "url": url} for url in driver.outputs.values()
              if isinstance(url, str) and _local(url)]
    return steps


def run_sample(sb: Any, folder: Path, spec: dict[str, Any] | None = None) -> SampleResult:
    """Deploy ``folder`` (unchanged) into ``sb`` and drive it."""
    from .deployment import deploy
    from .errors import DeployError

    spec = spec or {}
    name = folder.name
    stack_name = re.sub(r"[^A-Za-z0-9-]", "-", name).strip("-") or "sample"
    if not stack_name[0].isalpha():
        stack_name = f"sample-{stack_name}"
    template = next(folder / n for n in TEMPLATE_NAMES if (folder / n).is_file())
    started = time.perf_counter()
    try:
        deployment = deploy(template, parameters=spec.get("parameters"), stack_name=stack_name,
                            sandbox=sb)
    except DeployError as e:
        return SampleResult(name, "failed", f"deploy: {e}",
                            deploy_seconds=time.perf_counter() - started)
    except Exception as e:  # the harness reports whatever a sample does to the sandbox
        return SampleResult(name, "failed", f"deploy: {type(e).__name__}: {e}",
                            deploy_seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    driver = Driver(sb, folder, stack_name, deployment.outputs)
    steps = spec.get("steps")
    results = [driver.run(step) for step in (default_steps(driver) if steps is None else steps)]
    status = "passed" if all(step.ok for step in results) else "partly"
    return SampleResult(name, status, "", results, seconds)


def run_samples(root: Path, *, only: list[str] | None = None,
                progress: Callable[[SampleResult], None] | None = None) -> list[SampleResult]:
    """Every sample under ``root``, each in a fresh sandbox; their results."""
    from .client import start

    drive = load_drive_file(root)
    folders = find_samples(root)
    if only:
        folders = [folder for folder in folders if folder.name in only]
    sb = start()
    results = []
    for folder in folders:
        sb.reset()
        result = run_sample(sb, folder, drive.get(folder.name))
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def table(results: list[SampleResult]) -> str:
    """A Markdown table of the results, with a count per status."""
    lines = ["| sample | result | why |", "|---|---|---|"]
    lines += [result.row() for result in results]
    counts = {status: sum(r.status == status for r in results)
              for status in ("passed", "partly", "failed")}
    lines.append("")
    lines.append(", ".join(f"{count} {status}" for status, count in counts.items()))
    return "\n".join(lines)
