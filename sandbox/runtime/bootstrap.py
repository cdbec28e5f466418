"""The Python runtime of an execution environment: a Runtime API client, standard library only.

A worker starts as a *spare*: its supervisor (``supervisor.py``) has forked a runtime process that
has imported this module and waits for one JSON line, its assignment (environment variables,
working directory, import path and either a Python handler or a custom runtime's ``bootstrap`` to
exec). The sandbox keeps one spare ready, so a cold start costs what it costs on AWS: importing
the learner's module.

After assignment it behaves like AWS's ``awslambdaric``: INIT imports the handler's module once,
then it loops over ``GET /2018-06-01/runtime/invocation/next`` and posts each result to
``/response`` or ``/error``. Payloads, error types and log lines follow awslambdaric's.
"""

from __future__ import annotations

import decimal
import errno
import http.client
import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback

# typing and the annotations' names are imported by the type checker only (mypy reads any name
# TYPE_CHECKING as true): a runtime would pay for the import at every cold start, and botocore
# is the learner's to import or not
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType, TracebackType
    from typing import Any, NoReturn, TypeAlias, TypedDict, TypeVar

    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.httpsession import URLLib3Session

    class ErrorDocument(TypedDict):
        """An error as the Runtime API takes it and Invoke returns it (awslambdaric's)."""

        errorMessage: str
        errorType: str
        requestId: str
        stackTrace: list[str]

    class _AssignmentOptions(TypedDict, total=False):
        exec: list[str]  # a custom runtime's bootstrap, with its arguments
        python: str  # the interpreter of the runtime's version, when not this one
        opt: str | None  # where the layers are, shown as /opt

    class Assignment(_AssignmentOptions):
        """What the sandbox assigns a spare runtime (environment.py writes it)."""

        env: dict[str, str]
        cwd: str
        handler: str
        path: list[str]

    # the learner's handler: the event (any JSON) and the context; its result is marshalled
    Handler: TypeAlias = "Callable[[Any, LambdaContext], object]"
    _Slotted = TypeVar("_Slotted", bound="CognitoIdentity | Client | ClientContext")

API = "/2018-06-01/runtime"
ERROR_LOG_INDENT = "\u00a0"  # awslambdaric indents an error's traceback with no-break spaces
FRAME = "\x1e"  # one log event, like a frame on Lambda's telemetry channel: FRAME + JSON + "\n"
INIT_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. For "
    "functions using managed runtimes, runtime updates can be triggered by a function change, or "
    "can be applied automatically. To determine if the runtime has been updated, check the runtime "
    "version in the INIT_START log entry. If this error correlates with a change in the runtime "
    "version, you may be able to mitigate this error by temporarily rolling back to the previous "
    "runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_request_id = ""


# ---------------------------------------------------------------- safety: never reach real AWS
def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine: a loopback address (127.0.0.0/8, ::1), or
    ``localhost`` and its subdomains. Parsed, not compared by prefix: ``127.0.0.1.nip.io`` and
    ``localhost.amazonaws.com`` are other machines."""
    import ipaddress

    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class RealAWSRefused(ConnectionError):
    """Raised instead of sending a request anywhere but loopback."""


def install_guard(botocore_httpsession: ModuleType) -> None:
    """Make botocore refuse to send any request to a host that is not on loopback."""
    session_class = botocore_httpsession.URLLib3Session
    if getattr(session_class.send, "_sandbox_guard", False):
        return
    original = session_class.send

    def send(self: URLLib3Session, request: AWSPreparedRequest) -> AWSResponse:
        from urllib.parse import urlsplit

        host = urlsplit(request.url).hostname or ""
        if not is_loopback_host(host):
            raise RealAWSRefused(
                f"The sandbox refused to send a request to {request.url}: it never talks to real "
                "AWS. Create clients with no endpoint_url (boto3.client('lambda')) after "
                "sandbox.start(), so that they reach the sandbox."
            )
        return original(self, request)

    # marks on the function, read back above and by remove_guard
    send.__dict__.update(_sandbox_guard=True, _sandbox_original=original)
    session_class.send = send


def remove_guard(botocore_httpsession: ModuleType) -> None:
    session_class = botocore_httpsession.URLLib3Session
    original = getattr(session_class.send, "_sandbox_original", None)
    if original is not None:
        session_class.send = original


class _GuardFinder:
    """Installs the guard the moment a handler imports botocore (it may never).

    The same idea as sandbox.lazy.when_imported, written again because a worker runs without
    site-packages and so cannot import the sandbox package."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name != "botocore.httpsession":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:  # no botocore after all: the import fails as usual
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_guard(module: ModuleType) -> None:
            exec_module(module)
            install_guard(module)

        # an attribute of this loader object alone (its class's method is left as it is)
        vars(spec.loader)["exec_module"] = exec_and_guard
        return spec


# ---------------------------------------------------------------- the context object
class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]
    cognito_identity_id: str | None
    cognito_identity_pool_id: str | None

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}"
            "])"
        )


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]
    installation_id: str | None
    app_title: str | None
    app_version_name: str | None
    app_version_code: str | None
    app_package_name: str | None


class ClientContext:
    __slots__ = ["custom", "env", "client"]
    custom: dict[str, Any] | None
    env: dict[str, Any] | None
    client: Client | None


def _object_from(cls: type[_Slotted], values: dict[str, Any] | None) -> _Slotted | None:
    if values is None:
        return None
    return _filled(cls, values)


def _filled(cls: type[_Slotted], values: dict[str, Any]) -> _Slotted:
    obj = cls()
    for name in cls.__slots__:
        setattr(obj, name, values.get(name))
    return obj


class LambdaContext:
    """The ``context`` argument, attribute for attribute as awslambdaric builds it."""

    def __init__(self, request_id: str, client_context: dict[str, Any] | None,
                 cognito_identity: dict[str, Any] | None, deadline_ms: int, function_arn: str):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.tenant_id: str | None = None
        self.client_context = _object_from(ClientContext, client_context)
        if client_context is not None and self.client_context is not None:
            self.client_context.client = _object_from(Client, client_context.get("client"))
        self.identity = _filled(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: object) -> None:
        log_event(str(msg))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


# ---------------------------------------------------------------- errors, as awslambdaric has them
class Fault(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace


def make_error(message: str | None, error_type: str | None, stack_trace: list[str] | None,
               request_id: str | None = None) -> ErrorDocument:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def _aws_path(filename: str) -> str:
    """A file of the function's code, named as on AWS (the code lives in /var/task there)."""
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "")
    if task_root and filename and filename.startswith(task_root + os.sep):
        return "/var/task" + filename[len(task_root):]
    return filename


def _user_frames(tb: TracebackType | None) -> list[str]:
    """The traceback without the runtime's own frames, formatted as awslambdaric does (frames
    of file, line number, name and text only, so no 3.11 caret lines)."""
    frames = traceback.extract_tb(tb)
    here = os.path.abspath(__file__)
    while frames and os.path.abspath(frames[0].filename) == here:
        frames.pop(0)
    return traceback.format_list(
        [traceback.FrameSummary(_aws_path(f.filename), f.lineno, f.name, line=f.line)
         for f in frames])


def error_from_exception(exc: BaseException, request_id: str | None = None) -> ErrorDocument:
    return make_error(str(exc), type(exc).__name__, _user_frames(exc.__traceback__), request_id)


def log_event(message: str) -> None:
    """Write one log event, newlines and all, as the telemetry channel carries it."""
    sys.stdout.write(FRAME + json.dumps({"lines": [message]}) + "\n")


def _json_logs() -> bool:
    """The function's LoggingConfig says LogFormat JSON: Lambda sets AWS_LAMBDA_LOG_FORMAT (and
    AWS_LAMBDA_LOG_LEVEL, its ApplicationLogLevel), which the Python runtime reads."""
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


class _JsonFormatter(logging.Formatter):
    """The Python runtime's JSON log line (awslambdaric's JsonFormatter, as
    python-logging.html shows it): timestamp, level, message, logger, requestId; for a record
    with an exception stackTrace, errorType, errorMessage and location; ``extra=`` fields
    join the object; a dict message stays an object."""

    _RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
        "aws_request_id", "tenant_id", "message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10
        info = record.exc_info
        result: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": logging.getLevelName(level),
            "message": record.msg if isinstance(record.msg, dict) and not record.args
            else record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(info[2]) if info else None,
            "errorType": info[0].__name__ if info and info[0] else None,
            "errorMessage": str(info[1]) if info else None,
            "requestId": getattr(record, "aws_request_id", None) or None,
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if info else None,
        }
        result.update((key, value) for key, value in record.__dict__.items()
                      if key not in self._RESERVED and key not in result)
        return json.dumps({k: v for k, v in result.items() if v is not None},
                          ensure_ascii=False, default=str) + "\n"


def log_error(error: ErrorDocument) -> None:
    if _json_logs():  # the runtime's JSON error line
        log_event(json.dumps({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "level": "ERROR", **error}) + "\n")
        return
    line = "[ERROR]"
    if error.get("errorType"):
        line += " " + error["errorType"]
    if error.get("errorMessage"):
        line += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [line]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for trace_line in element.splitlines() or [""]:
                stripped = trace_line.lstrip(" ")
                lines.append(ERROR_LOG_INDENT * (len(trace_line) - len(stripped)) + stripped)
    log_event("\n".join(lines))


def load_handler(handler: str) -> Handler:
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {e}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                "Runtime.BuiltInModuleConflict",
                f"Cannot use built-in module {module_name} as a handler module",
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}"
        ) from None
    except SyntaxError as e:
        # (str(): "None" where Python names no file, as the f-string always showed)
        trace = [f'  File "{_aws_path(str(e.filename))}" Line {e.lineno}\n    {e.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}", trace
        ) from None
    try:
        found: Handler = getattr(module, function_name)
        return found
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound",
                    f"Handler '{function_name}' missing on module '{module_name}'") from None


class _Encoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        # awslambdaric writes a Decimal as a plain JSON number (DynamoDB items are full of them)
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return float("nan")
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def marshal(response: object) -> tuple[bytes, str]:
    if isinstance(response, bytes):
        return response, "application/unknown"
    ascii_only = os.environ.get("AWS_EXECUTION_ENV", "") < "AWS_Lambda_python3.12"
    try:
        return (
            _Encoder(ensure_ascii=ascii_only, allow_nan=True).encode(response).encode("utf-8"),
            "application/json",
        )
    except Exception as e:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {e}") from None


# ---------------------------------------------------------------- the Runtime API client
class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:  # (request() calls it whenever the connection is not open)
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RuntimeClient:
    def __init__(self, address: str):
        host, _, port = address.rpartition(":")
        self.connection = _Connection(host, int(port))

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
        self.connection.request(method, API + path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response, response.read()

    def next(self) -> tuple[http.client.HTTPResponse, bytes]:
        return self.call("GET", "/invocation/next")

    def post_result(self, request_id: str, body: bytes, content_type: str) -> None:
        self.call("POST", f"/invocation/{request_id}/response", body,
                  {"Content-Type": content_type})

    def post_error(self, request_id: str, error: ErrorDocument) -> None:
        self.call("POST", f"/invocation/{request_id}/error", json.dumps(error).encode(),
                  {"Content-Type": "application/json"})

    def post_init_error(self, error: ErrorDocument) -> None:
        self.call("POST", "/init/error", json.dumps(error).encode(),
                  {"Lambda-Runtime-Function-Error-Type": error["errorType"]})


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # fields LOG_FORMAT names, which LogRecord does not declare (as logging's extra= sets them)
        record.__dict__.update(aws_request_id=_request_id, tenant_id=None)
        return True


class _LambdaLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log_event(self.format(record))


class _DropSandboxEndpointNotice(logging.Filter):
    # botocore says where it found its endpoint; on AWS there is no endpoint variable to find
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Found endpoint for")


def setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    logging.getLogger("botocore.configprovider").addFilter(_DropSandboxEndpointNotice())
    handler = _LambdaLogHandler()
    if _json_logs():
        handler.setFormatter(_JsonFormatter())
        # ApplicationLogLevel: TRACE is logging's DEBUG, FATAL its CRITICAL, WARN its WARNING
        level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
        level = {"TRACE": "DEBUG", "FATAL": "CRITICAL", "WARN": "WARNING"}.get(level, level)
        if isinstance(logging.getLevelName(level), int):  # a name logging knows
            logging.getLogger().setLevel(level)
    else:
        handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _json_header(value: str | None, what: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError as e:
        raise Fault("Runtime.LambdaContextUnmarshalError",
                    f"Unable to parse {what} JSON: {e}") from None


def serve(client: RuntimeClient, handler_name: str) -> NoReturn:
    global _request_id
    setup_logging()
    error: ErrorDocument | None
    try:
        handler = load_handler(handler_name)
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as e:  # an exception raised by the module's own code during INIT
        error = error_from_exception(e)
    else:
        error = None
    if error is not None:
        logging.warning(INIT_WARNING)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)

    while True:
        response, body = client.next()
        # (the sandbox's Runtime API always sends the headers read here)
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id", "")
        _request_id = request_id
        trace_id = response.getheader("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            context = LambdaContext(
                request_id,
                _json_header(response.getheader("Lambda-Runtime-Client-Context"), "Client Context"),
                _json_header(response.getheader("Lambda-Runtime-Cognito-Identity"),
                             "Cognito Identity"),
                int(response.getheader("Lambda-Runtime-Deadline-Ms", "")),
                response.getheader("Lambda-Runtime-Invoked-Function-Arn", ""),
            )
            try:
                event = json.loads(body)
            except ValueError as e:
                raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {e}") from None
            result, content_type = marshal(handler(event, context))
        except Fault as fault:
            error = make_error(fault.message, fault.error_type, fault.trace, request_id)
        except Exception as e:
            error = error_from_exception(e, request_id)
        else:
            error = None
        if error is not None:
            log_error(error)
            client.post_error(request_id, error)
        else:
            client.post_result(request_id, result, content_type)


def run(assignment: Assignment) -> NoReturn:
    """Run an assignment (a Python handler, or a custom runtime's bootstrap to exec); the
    supervisor (supervisor.py) has forked this process for it and passes it on."""
    import importlib.util  # noqa: F401  (used by _GuardFinder)

    os.environ.clear()
    os.environ.update(assignment["env"])
    time.tzset()
    os.chdir(assignment["cwd"])
    python = assignment.get("python")
    if python:
        # the runtime's own Python version (interpreters.py): this module again, run by it,
        # unbuffered as the supervisor is (workers.py), so that no log line waits in a buffer
        rest = {key: value for key, value in assignment.items() if key != "python"}
        try:
            os.execve(python, [python, "-I", "-S", "-u", __file__],
                      dict(os.environ, _SANDBOX_ASSIGNMENT=json.dumps(rest)))
        except OSError as e:
            client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
            client.post_init_error(make_error(
                f"the sandbox could not start {python}: {e.strerror or e}",
                "Runtime.InvalidEntrypoint", None))
            os._exit(1)
    if assignment.get("exec"):
        argv = assignment["exec"]
        try:
            os.execve(argv[0], argv, os.environ)
        except OSError as e:
            # Lambda's own words, from its Go platform
            if e.errno == errno.ENOENT:
                message = "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
            else:
                shown = _aws_path(argv[0])
                opt = assignment.get("opt")
                if opt and argv[0].startswith(opt + os.sep):
                    shown = "/opt" + argv[0][len(opt):]
                message = f"fork/exec {shown}: {(e.strerror or str(e)).lower()}"
            client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
            client.post_init_error(make_error(message, "Runtime.InvalidEntrypoint", None))
            os._exit(1)
    sys.path[:0] = assignment["path"]
    sys.meta_path.insert(0, _GuardFinder())
    sys.argv = [assignment["handler"]]
    serve(RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"]), assignment["handler"])


if __name__ == "__main__":  # started by run() on another interpreter: the assignment follows
    run(json.loads(os.environ.pop("_SANDBOX_ASSIGNMENT")))
