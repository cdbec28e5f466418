"""Distributed Map, as far as the sandbox runs it.

moto's interpreter (LocalStack's) runs a Map whose ``ItemProcessor`` has ``"ProcessorConfig":
{"Mode": "DISTRIBUTED"}``: ``ItemReader`` from S3 (a JSON array, CSV with its header row or
given headers, an object listing), ``ItemSelector``, ``MaxConcurrency``, ``ResultWriter`` and
the map run records behind ``ListMapRuns`` and ``DescribeMapRun``. Its grammar and readers stop
short of AWS in these places, fixed here:

- ``"ExecutionType": "EXPRESS"`` is refused by its grammar (it knows ``STANDARD`` only);
  ``"ToleratedFailurePercentage": 50`` is refused because its grammar wants a decimal number.
  Both are valid on AWS ("Using Map state in Distributed mode", Step Functions developer guide),
  so the definition the parser reads says ``STANDARD`` and ``50.0``; the state machine's own
  definition is unchanged. The child workflows run alike in both types (the sandbox does not
  keep their histories apart);
- ``s3:listObjectsV2`` gave the items as botocore returns them (``LastModified`` a datetime, so
  DescribeExecution failed with HTTP 500) and read only the first 1,000 objects. AWS gives each
  object as ``{"Etag", "Key", "LastModified", "Size", "StorageClass"}`` with ``LastModified`` in
  seconds since the epoch (the developer guide's ItemReader page), over every page;
- ``ResultWriter`` wrote a manifest listing no result files and dropped the results. AWS writes
  the children's results to ``<Prefix>/<map run id>/SUCCEEDED_0.json`` (and ``FAILED_0.json``,
  ``PENDING_0.json``) and lists each file, with its size, in ``manifest.json``.

- ``ItemBatcher`` is not in moto's grammar: the sandbox batches the items itself
  (MaxItemsPerBatch, MaxInputBytesPerBatch, BatchInput), each child getting
  ``{"BatchInput": ..., "Items": [...]}``; the map run's item counts then count batches.

- ``"InputType": "MANIFEST"`` (an S3 inventory's ``manifest.json``) is not in moto's readers:
  the parser's copy of the definition reads it as JSON, with a marker in its Parameters, and
  :func:`handle_get_object` reads the manifest, then each data file it lists (gzip-compressed
  CSV, as S3 Inventory writes them), each row an item whose fields are the manifest's
  ``fileSchema`` ("ItemReader (Map)", Step Functions developer guide: S3 inventory manifest).

Not run (refused at CreateStateMachine with a message saying so): an ItemBatcher with ``*Path``
fields, JSONata expressions or an ItemSelector beside it.
"""

from __future__ import annotations

import base64
import contextvars
import csv
import datetime
import functools
import gzip
import io
import json
import threading
from typing import Any

NOT_RUN = ("SCHEMA_VALIDATION_FAILED: the sandbox does not run {what} yet (AWS does; see the "
           "README's Known differences): {hint} at {at}")
UNSUPPORTED = {
    "ItemBatcher": ("an ItemBatcher with paths, expressions or an ItemSelector beside it",
                    "give MaxItemsPerBatch, MaxInputBytesPerBatch and BatchInput as values, "
                    "and select fields in the child workflow"),
}


def not_run(state: dict[str, Any], at: str) -> list[str]:
    """What in a Map state the sandbox cannot run, each in a message for the learner."""
    found = []
    batcher = state.get("ItemBatcher")
    if batcher is not None and not _runs(batcher, state):
        what, hint = UNSUPPORTED["ItemBatcher"]
        found.append(NOT_RUN.format(what=what, hint=hint, at=f"{at}/ItemBatcher"))
    return found


def _runs(batcher: Any, state: dict[str, Any]) -> bool:
    """An ItemBatcher the sandbox runs: its limits as numbers, no ItemSelector beside it (AWS
    applies that to each item before batching; moto's children would apply it to the batch)."""
    if not isinstance(batcher, dict) or "ItemSelector" in state:
        return False
    if set(batcher) - {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}:
        return False
    return all(isinstance(batcher.get(field, 0), int)
               for field in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"))


# ---------------------------------------------------------------- the parser's reading
# moto's grammar has no ItemBatcher: the parser reads it from the Map state's Comment, where
# for_the_parser moves it, and StateMap's evaluation takes it back out (map_eval_execution)
_BATCHER_MARK = "sandbox:item-batcher:"
def for_the_parser(definition: str) -> str:
    """``definition`` as moto's grammar accepts it: ``EXPRESS`` child workflows read as
    ``STANDARD``, a whole ToleratedFailurePercentage as a decimal. Unchanged text otherwise
    (so that the parser's own messages point at the learner's lines)."""
    try:
        document = json.loads(definition)
    except ValueError:
        return definition
    if not _normalise(document):
        return definition
    return json.dumps(document)


def _normalise(node: Any) -> bool:
    changed = False
    if isinstance(node, dict):
        config = node.get("ProcessorConfig")
        if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"
            changed = True
        if node.get("Type") == "Map" and isinstance(node.get("ItemBatcher"), dict):
            # base64: the parser keeps a string's escapes as they are written
            node["Comment"] = _BATCHER_MARK + base64.urlsafe_b64encode(json.dumps(
                {"ItemBatcher": node.pop("ItemBatcher"), "Comment": node.get("Comment")})
                .encode("utf-8")).decode("ascii")
            changed = True
        config = node.get("ReaderConfig")
        if isinstance(config, dict) and config.get("InputType") == "MANIFEST":
            config["InputType"] = "JSON"
            arguments = "Arguments" if "Arguments" in node else "Parameters"
            if isinstance(node.get(arguments), dict):
                node[arguments][MANIFEST_MARK] = "MANIFEST"
            changed = True
        percentage = node.get("ToleratedFailurePercentage")
        if isinstance(percentage, int) and not isinstance(percentage, bool):
            node["ToleratedFailurePercentage"] = float(percentage)
            changed = True
        for value in node.values():
            changed = _normalise(value) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _normalise(value) or changed
    return changed


def parse(original: Any) -> Any:
    """Wrap ``AmazonStateLanguageParser.parse``: the definition as :func:`for_the_parser`."""

    @functools.wraps(original)
    def _parse(definition: str) -> Any:
        return original(for_the_parser(definition))

    return _parse


# ---------------------------------------------------------------- ItemReader: s3:listObjectsV2
def listed(content: dict[str, Any]) -> dict[str, Any]:
    """One object of a listing, as a Distributed Map's item."""
    modified = content.get("LastModified")
    if isinstance(modified, datetime.datetime):
        modified = int(modified.timestamp())
    return {"Etag": content.get("ETag"), "Key": content.get("Key"), "LastModified": modified,
            "Size": content.get("Size"), "StorageClass": content.get("StorageClass")}


def handle_list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """``ResourceEvalS3._handle_list_objects_v2``: every page, each object as AWS gives it."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3,
    )

    s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
        resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
    parameters = dict(env.stack.pop())
    items: list[dict[str, Any]] = []
    while True:
        page = s3.list_objects_v2(**parameters)
        items += [listed(content) for content in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            break
        parameters["ContinuationToken"] = page["NextContinuationToken"]
    env.stack.append(items)


# ---------------------------------------------------------------- ItemReader: an S3 inventory
MANIFEST_MARK = "SandboxInputType"  # put in the parser's copy of a MANIFEST reader's Parameters


def inventory_items(manifest: dict[str, Any], read: Any) -> list[dict[str, str]]:
    """The items of an S3 inventory: each row of each data file the manifest lists, as
    ``{field: value}`` with the fields of its ``fileSchema`` (values as the CSV has them, so
    ``Size`` is a string, as in the developer guide's example). ``read(bucket, key)`` gives a
    file's bytes."""
    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise ValueError(f"the sandbox reads CSV inventories; this one is "
                         f"{manifest.get('fileFormat')} (ORC and Parquet need a reader it lacks)")
    fields = [field.strip() for field in str(manifest.get("fileSchema", "")).split(",")]
    bucket = str(manifest.get("destinationBucket", "")).split(":")[-1]
    items: list[dict[str, str]] = []
    for listed_file in manifest.get("files") or []:
        data = read(bucket, listed_file["key"])
        if data[:2] == b"\x1f\x8b":  # S3 Inventory gzips its CSV files
            data = gzip.decompress(data)
        for row in csv.reader(io.StringIO(data.decode("utf-8"))):
            if row:
                items.append(dict(zip(fields, row, strict=False)))
    return items


def handle_get_object(original: Any) -> Any:
    """Wrap ``ResourceEvalS3._handle_get_object``: a MANIFEST reader (marked by
    :func:`for_the_parser`) gives the inventory's items, as JSON text for moto's JSON reader."""

    @functools.wraps(original)
    def _handle_get_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack[-1]
        if not (isinstance(parameters, dict) and parameters.get(MANIFEST_MARK) == "MANIFEST"):
            original(env, resource_runtime_part, state_credentials)
            return
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (  # noqa: E501
            resource_eval_s3,
        )

        parameters = dict(env.stack.pop())
        parameters.pop(MANIFEST_MARK)
        s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
        manifest = json.loads(s3.get_object(**parameters)["Body"].read())

        def read(bucket: str, key: str) -> bytes:
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return body

        env.stack.append(json.dumps(inventory_items(manifest, read)))

    return _handle_get_object


# ---------------------------------------------------------------- tolerated failures
THRESHOLD_ERROR = "States.ExceededToleratedFailureThreshold"
# no AWS answer recorded for the cause: the error's description in the developer guide
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def exceeded(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether a map run's failures exceed what it tolerates ("Setting failure thresholds for
    Distributed Map states": none tolerated unless set; with both set, either one exceeded
    fails the run)."""
    if not count and not percentage:
        return failed > 0
    over_count = bool(count) and failed > count
    over_percentage = bool(percentage) and total > 0 and failed * 100.0 / total > percentage
    return over_count or over_percentage


def map_run(original: Any) -> Any:
    """Wrap ``DistributedIterationComponent._map_run``: a run whose children failed beyond its
    ToleratedFailureCount/Percentage fails with ``States.ExceededToleratedFailureThreshold``
    (moto let every child fail and the Map succeed with ``null`` results)."""

    @functools.wraps(original)
    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        batcher = _BATCHER.get()
        if batcher is not None:
            env.stack.append(batches(env.stack.pop(), batcher))
        original(self, env, eval_input)
        record = eval_input.map_run_record
        items = record.item_counter
        failed = items.failed.get() + items.timed_out.get() + items.aborted.get()
        if exceeded(failed, items.total.get(), record.tolerated_failure_count,
                    record.tolerated_failure_percentage):
            env.stack.pop()  # the results: the Map fails instead
            raise _threshold_failure(env)

    return _map_run


def _threshold_failure(env: Any) -> Exception:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    return FailureEventException(FailureEvent(
        env=env, error_name=CustomErrorName(THRESHOLD_ERROR),
        event_type=HistoryEventType.ExecutionFailed,
        # moto declares EventDetails total; an event carries one kind of details
        event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(  # type: ignore[typeddict-item]
            error=THRESHOLD_ERROR, cause=THRESHOLD_CAUSE))))


# ---------------------------------------------------------------- ResultWriter
_STATUS = {"ProgramEnded": "SUCCEEDED", "ProgramError": "FAILED", "ProgramStopped": "ABORTED",
           "ProgramTimedOut": "TIMED_OUT"}
# the result file each status is written to ("ResultWriter", Step Functions developer guide:
# failed, timed-out and aborted child workflows go to FAILED_n.json)
_FILE = {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "TIMED_OUT": "FAILED",
         "ABORTED": "FAILED"}


def eval_job(original: Any) -> Any:
    """Wrap ``DistributedItemProcessorWorker._eval_job``: keep each child's input, status and
    output (or error and cause) on its map run, for ResultWriter; a child that did not succeed
    leaves the map run's running executions too."""

    @functools.wraps(original)
    def _eval_job(self: Any, env: Any, job: Any) -> None:
        started = _now()
        original(self, env, job)
        state = env.program_state()
        status = _STATUS.get(type(state).__name__, "FAILED")
        if status == "SUCCEEDED" and job.job_output is None:
            status = "FAILED"  # moto caught a failure of the child's own (its output is unset)
        result: dict[str, Any] = {"Input": json.dumps(job.job_input),
                                  "InputDetails": {"Included": True},
                                  "StartDate": started, "Status": status, "StopDate": _now()}
        if status == "SUCCEEDED":
            result["Output"] = json.dumps(job.job_output)
            result["OutputDetails"] = {"Included": True}
        else:
            details = getattr(state, "error", None) or {}
            result["Error"] = details.get("error", "States.TaskFailed") \
                if isinstance(details, dict) else str(details)
            result["Cause"] = details.get("cause", "") if isinstance(details, dict) else ""
        record = self._map_run_record
        if status != "SUCCEEDED":
            # moto counts a child out of "running" only when it succeeds
            record.execution_counter.running.offset(-1)
        with _RESULTS_LOCK:
            record.__dict__.setdefault("sandbox_results", []).append((job.job_index, result))

    return _eval_job


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


_RESULTS_LOCK = threading.Lock()


def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """``ResultWriter``'s ``ResourceEvalS3._handle_put_object``: the children's results in
    ``SUCCEEDED_0.json`` and ``FAILED_0.json`` under ``<Prefix>/<map run id>/``, listed with their
    sizes in ``manifest.json``; the Map's output names the manifest, as AWS's does."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (  # noqa: E501
        resource_eval_s3,
    )

    parameters = env.stack.pop()
    env.stack.pop()  # the Map's results: AWS writes them instead of returning them
    s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
        resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
    record = env.map_run_record_pool_manager.get_all()[-1]
    run_id = record.map_run_arn.split(":")[-1]
    bucket, prefix = parameters["Bucket"], parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    results = sorted(record.__dict__.get("sandbox_results", []), key=lambda pair: pair[0])
    for kind in ("SUCCEEDED", "FAILED"):
        chosen = [result for _, result in results if _FILE[result["Status"]] == kind]
        if not chosen:
            continue
        key = f"{prefix}{run_id}/{kind}_0.json"
        body = json.dumps(chosen).encode("utf-8")
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        files[kind].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn,
                "ResultFiles": files}
    key = f"{prefix}{run_id}/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode("utf-8"))
    env.stack.append({"MapRunArn": record.map_run_arn,
                      "ResultWriterDetails": {"Bucket": bucket, "Key": key}})


# ---------------------------------------------------------------- ItemBatcher
_BATCHER: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "sandbox_item_batcher", default=None)


def batches(items: list[Any], batcher: dict[str, Any]) -> list[dict[str, Any]]:
    """The child workflows' inputs: ``{"BatchInput": ..., "Items": [...]}``, each batch at most
    MaxItemsPerBatch items and MaxInputBytesPerBatch bytes of JSON ("ItemBatcher", Step
    Functions developer guide; BatchInput only when given)."""
    most = batcher.get("MaxItemsPerBatch") or len(items) or 1
    size_limit = batcher.get("MaxInputBytesPerBatch")
    found: list[dict[str, Any]] = []
    current: list[Any] = []

    def batch(members: list[Any]) -> dict[str, Any]:
        made: dict[str, Any] = {"Items": members}
        if "BatchInput" in batcher:
            made = {"BatchInput": batcher["BatchInput"], "Items": members}
        return made

    for item in items:
        grown = current + [item]
        too_big = size_limit and len(json.dumps(batch(grown)).encode("utf-8")) > size_limit
        if current and (len(grown) > most or too_big):
            found.append(batch(current))
            grown = [item]
        current = grown
    if current:
        found.append(batch(current))
    return found


def map_eval_execution(original: Any) -> Any:
    """Wrap ``StateMap._eval_execution``: a Map with an ItemBatcher (moved into its Comment for
    the parser) batches its items. The definition the state machine shows is the learner's
    (only the parser's copy carries the batcher in a Comment)."""

    @functools.wraps(original)
    def _eval_execution(self: Any, env: Any) -> None:
        batcher = None
        comment = getattr(getattr(self, "comment", None), "comment", None)
        if isinstance(comment, str) and comment.startswith(_BATCHER_MARK):
            batcher = json.loads(base64.urlsafe_b64decode(
                comment[len(_BATCHER_MARK):]))["ItemBatcher"]
        token = _BATCHER.set(batcher)
        try:
            original(self, env)
        finally:
            _BATCHER.reset(token)

    return _eval_execution
