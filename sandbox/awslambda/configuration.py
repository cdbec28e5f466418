"""Function configuration moto gets wrong: dead-letter queues, event invoke configs, limits.

moto (``awslambda/models.py``) neither stores ``DeadLetterConfig`` nor checks ``Timeout``
(1-900 s), ``MemorySize`` (128-10,240 MB) or the 4 KB limit on environment variables; its
``put_function_event_invoke_config`` appends a config where AWS replaces it, and its update does a
put where AWS merges; it takes a deployment package of any size (Lambda: 50 MB zipped for a direct
upload, 250 MB unzipped); its UpdateFunctionCode ignores ``Architectures``; and it accepts runtimes
Lambda no longer lets a function be created or updated with. Rows of
``sandbox/seams.py`` put these functions in place of moto's.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.awslambda.models import EventInvokeConfig

from ..runtime.reports import DEPRECATED_RUNTIMES, PYTHON_RUNTIMES, RETIRED_RUNTIMES


def _validation_error(value: Any, member: str, constraint: str) -> Exception:
    return LambdaClientError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}")


def runtime_refused(runtime: str | None, creating: bool, today: date | None = None) -> str:
    """Lambda's refusal of a runtime past its block date ("" when it is accepted)."""
    if not runtime:
        return ""
    blocked = runtime in RETIRED_RUNTIMES
    if runtime in DEPRECATED_RUNTIMES:
        _, block_create, block_update = DEPRECATED_RUNTIMES[runtime]
        when = date.fromisoformat(block_create if creating else block_update)
        blocked = (today or datetime.now(timezone.utc).date()) >= when
    if not blocked:
        return ""
    return (f"The runtime parameter of {runtime} is no longer supported for creating or updating "
            f"AWS Lambda functions. We recommend you use the new runtime ({PYTHON_RUNTIMES[-1]}) "
            "while creating or updating functions.")


def validate(spec: dict[str, Any], creating: bool = False) -> None:
    """Raise Lambda's own error for a configuration AWS would refuse."""
    refused = runtime_refused(spec.get("Runtime"), creating)
    if refused:
        raise InvalidParameterValueException(refused)
    timeout = spec.get("Timeout")
    if timeout is not None and timeout > 900:
        raise _validation_error(timeout, "timeout",
                                "Member must have value less than or equal to 900")
    memory = spec.get("MemorySize")
    if memory is not None and memory > 10240:
        raise _validation_error(memory, "memorySize",
                                "Member must have value less than or equal to 10240")
    variables = (spec.get("Environment") or {}).get("Variables")
    if variables:
        size = len(json.dumps(variables, separators=(",", ":")).encode())
        if size > 4096:
            raise InvalidParameterValueException(
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided exceeded the 4KB limit. String "
                f"measured: {json.dumps(variables, separators=(',', ':'))}")


# A deployment package uploaded directly (ZipFile) travels base64-encoded in the request, which
# Lambda caps at 69,905,067 bytes: 50 MB of zip, 4/3 larger in base64. Past it Lambda answers 413
# RequestEntityTooLargeException "Request must be smaller than 69905067 bytes for the
# CreateFunction operation". The files, unzipped, may take 250 MB (262,144,000 bytes), else 400
# InvalidParameterValueException "Unzipped size must be smaller than 262144000 bytes".
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_ZIPFILE_REQUEST_BYTES = 69905067
MAX_UNZIPPED_BYTES = 262144000


class RequestEntityTooLarge(LambdaClientError):
    code = 413

    def __init__(self, operation: str):
        super().__init__("RequestEntityTooLargeException",
                         f"Request must be smaller than {MAX_ZIPFILE_REQUEST_BYTES} bytes for the "
                         f"{operation} operation")


def validate_package(zip_file: str | bytes | None, operation: str) -> None:
    """Raise Lambda's error for a directly uploaded package over its limits (the sandbox measures
    the package's base64 text, Lambda the whole request: a few hundred bytes more). A package
    from S3 is not measured, and neither are layers (on AWS they count towards the 250 MB)."""
    if not zip_file:
        return
    if len(zip_file) >= MAX_ZIPFILE_REQUEST_BYTES:
        raise RequestEntityTooLarge(operation)
    try:
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(zip_file))) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (binascii.Error, zipfile.BadZipFile, ValueError):
        return  # not a zip: moto (and the runtime) say so as before
    if unzipped >= MAX_UNZIPPED_BYTES:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")


# "You can reserve up to the Unreserved account concurrency value that is shown, minus 100 for
# functions that don't have reserved concurrency" (configuration-concurrency.html); an account
# whose limit is under 100 (a new one, at 10 or 50) keeps all of it unreserved: the minimum in
# Lambda's error is then the limit itself. moto checks this only under an environment variable.
UNRESERVED_MINIMUM = 100


def put_function_concurrency(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``LambdaBackend.put_function_concurrency``: the account keeps its unreserved
    minimum."""

    def put_function_concurrency(self: Any, function_name: str,
                                 reserved_concurrency: str) -> Any:
        from . import running

        fn = self.get_function(function_name)  # ResourceNotFoundException first
        limit = running().pool.account_concurrency
        minimum = min(UNRESERVED_MINIMUM, limit)
        others = sum(int(other.reserved_concurrency) for other in self.list_functions()
                     if other.reserved_concurrency is not None
                     and other.function_name != fn.function_name)
        if limit - others - int(reserved_concurrency) < minimum:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{minimum}].")
        return original(self, function_name, reserved_concurrency)

    return put_function_concurrency
LOG_FORMATS = ("JSON", "Text")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")


def logging_configuration(given: dict[str, Any] | None, name: str,
                          current: dict[str, Any] | None = None) -> dict[str, Any]:
    """A function's ``LoggingConfig`` as Lambda answers it (API_LoggingConfig.html): the
    ``LogFormat`` (``Text`` by default), for ``JSON`` the ``ApplicationLogLevel`` and
    ``SystemLogLevel`` (``INFO`` unless given), and the ``LogGroup`` (``/aws/lambda/<name>``
    unless given). An update changes the settings it names; switching to ``Text`` drops the
    levels, which only JSON logs have (monitoring-cloudwatchlogs-log-level.html)."""
    merged = dict(current or {})
    merged.update({key: value for key, value in (given or {}).items() if value is not None})
    log_format = merged.get("LogFormat") or "Text"
    if log_format not in LOG_FORMATS:
        raise _validation_error(log_format, "loggingConfig.logFormat",
                                "Member must satisfy enum value set: [JSON, Text]")
    found: dict[str, Any] = {"LogFormat": log_format}
    for key, levels, member in (("ApplicationLogLevel", APPLICATION_LOG_LEVELS,
                                 "loggingConfig.applicationLogLevel"),
                                ("SystemLogLevel", SYSTEM_LOG_LEVELS,
                                 "loggingConfig.systemLogLevel")):
        level = merged.get(key)
        if level is not None and level not in levels:
            raise _validation_error(level, member, "Member must satisfy enum value set: "
                                    f"[{', '.join(levels)}]")
        if log_format == "JSON":
            found[key] = level or "INFO"
        elif key in (given or {}):
            raise InvalidParameterValueException(
                f"{key} can only be set with LogFormat JSON: the plain text format has no log "
                "levels. Set LoggingConfig={'LogFormat': 'JSON', ...} to filter by level.")
    found["LogGroup"] = merged.get("LogGroup") or f"/aws/lambda/{name}"
    return found


# moto's LambdaFunction methods that answer with the function's configuration
_Configuring = Callable[..., dict[str, Any]]


def create_function(original: Any) -> Any:
    """Wrap ``LambdaBackend.create_function``: limits checked, DeadLetterConfig stored."""

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        validate(spec, creating=True)
        validate_package((spec.get("Code") or {}).get("ZipFile"), "CreateFunction")
        logging_config = logging_configuration(spec.get("LoggingConfig"), spec["FunctionName"])
        fn = original(self, spec)
        fn.dead_letter_config = spec.get("DeadLetterConfig") or None
        fn.logging_config = logging_config
        return fn

    return create_function


def update_configuration(original: _Configuring) -> _Configuring:
    """Wrap ``LambdaFunction.update_configuration``: limits checked, DeadLetterConfig stored."""

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        # a function on a runtime past its "block update" date cannot be updated at all
        validate({**config_updates, "Runtime": config_updates.get("Runtime") or self.run_time})
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"] or None
        if config_updates.get("LoggingConfig") is not None:
            self.logging_config = logging_configuration(
                config_updates["LoggingConfig"], self.function_name,
                getattr(self, "logging_config", None))
        return original(self, config_updates)

    return update_configuration


def get_configuration(original: _Configuring) -> _Configuring:
    """Wrap ``LambdaFunction.get_configuration``: the configuration shows DeadLetterConfig."""

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = original(self, on_create)
        dead_letter = getattr(self, "dead_letter_config", None)
        if dead_letter and dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = {"TargetArn": dead_letter["TargetArn"]}
        config["LoggingConfig"] = dict(getattr(self, "logging_config", None)
                                       or logging_configuration(None, self.function_name))
        return config

    return get_configuration


def update_function_code(original: _Configuring) -> _Configuring:
    """Wrap ``LambdaFunction.update_function_code``: the package's size checked, Architectures
    change too."""

    def update_function_code(self: Any, updated_spec: dict[str, Any]) -> dict[str, Any]:
        validate_package(updated_spec.get("ZipFile"), "UpdateFunctionCode")
        if updated_spec.get("Architectures") and not updated_spec.get("DryRun"):
            self.architectures = updated_spec["Architectures"]  # validated by moto's setter
        return original(self, updated_spec)

    return update_function_code


def put_event_invoke_config(self: Any, function_name: str,
                            config: dict[str, Any]) -> dict[str, Any]:
    fn = self.get_function(function_name)
    event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
    fn.event_invoke_config = [event_config]  # Put replaces the whole configuration
    return event_config.response()


def update_event_invoke_config(self: Any, function_name: str,
                               config: dict[str, Any]) -> dict[str, Any]:
    fn = self.get_function(function_name)
    merged = dict(fn.event_invoke_config[0].config) if fn.event_invoke_config else {}
    merged.update(config)  # Update changes only the settings it names
    return put_event_invoke_config(self, function_name, merged)


def principal_formatter(self: Any, obj: Any) -> Any:
    """AddPermission stores an account ID as its root ARN and an IAM ARN under "AWS":
    ``Principal="210987654321"`` reads back as ``{"AWS": "arn:aws:iam::210987654321:root"}``
    (AWS's AddPermission example); moto wraps only service names and root ARNs
    (awslambda/policy.py principal_formatter)."""
    if isinstance(obj, str):
        if obj.endswith(".amazonaws.com"):
            return {"Service": obj}
        if obj.isdigit() and len(obj) == 12:
            return {"AWS": f"arn:aws:iam::{obj}:root"}
        if obj.startswith("arn:aws:iam::") or obj.startswith("arn:aws:sts::"):
            return {"AWS": obj}
    return obj
