"""What Lambda's platform writes and answers: runtime versions, the REPORT line, its own error
payloads, the log tail of an invocation."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass

PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
                   "python3.14")
CUSTOM_RUNTIMES = ("provided.al2023", "provided.al2")
MAX_RESPONSE_BYTES = 6291556  # Lambda's synchronous response limit, as its error message states
TAIL_BYTES = 4096

# Runtime versions as INIT_START names them (the numbers are the sandbox's own).
RUNTIME_VERSIONS = {
    "python3.9": "python:3.9.v71",
    "python3.10": "python:3.10.v58",
    "python3.11": "python:3.11.v62",
    "python3.12": "python:3.12.v64",
    "python3.13": "python:3.13.v33",
    "python3.14": "python:3.14.v9",
    "provided.al2023": "provided:al2023.v94",
    "provided.al2": "provided:al2.v110",
}


# Deprecated runtimes: (deprecation, block function create, block function update), as AWS's
# runtime table and notices gave them (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html;
# AWS has moved these dates before, and may again). After "block create", CreateFunction refuses
# the runtime; after "block update", so does UpdateFunctionConfiguration. Functions already made
# keep running, as on AWS. Older Python runtimes are refused outright.
DEPRECATED_RUNTIMES = {
    "python3.8": ("2024-10-14", "2025-02-28", "2025-03-31"),
    "python3.9": ("2025-12-15", "2027-02-01", "2027-03-03"),
}
RETIRED_RUNTIMES = ("python2.7", "python3.6", "python3.7")


def runtime_version_arn(region: str, runtime: str) -> str:
    digest = hashlib.sha256(RUNTIME_VERSIONS[runtime].encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Result:
    """What an invocation gave back, in the terms of Lambda's Invoke API."""

    request_id: str
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    log: str = ""  # this invocation's log lines, START to REPORT
    executed_version: str = "$LATEST"
    duration_ms: float | None = None  # the REPORT line's Duration; None when nothing ran

    @property
    def log_tail(self) -> str:
        """Base64 of the last 4 KB of the log, as ``X-Amz-Log-Result`` carries it."""
        return base64.b64encode(self.log.encode("utf-8")[-TAIL_BYTES:]).decode()


def error_type(body: bytes | None) -> str:
    try:
        return str(json.loads(body or b"").get("errorType") or "Runtime.Unknown")
    except (ValueError, AttributeError):
        return "Runtime.Unknown"


def platform_error(error_type: str, message: str) -> bytes:
    # Lambda's platform (not the runtime) writes these, compactly
    return json.dumps({"errorType": error_type, "errorMessage": message},
                      separators=(",", ":")).encode()


def invocation_log(lines: list[tuple[int, str]], request_id: str) -> str:
    """This invocation's log from START on, as the Invoke API's log tail shows it."""
    texts = [text for _, text in lines]
    start = f"START RequestId: {request_id} "
    json_start = f'"type": "platform.start", "record": {{"requestId": "{request_id}"'
    for index, text in enumerate(texts):
        if text.startswith(start) or json_start in text:  # LogFormat Text, or JSON
            texts = texts[index:]
            break
    return "".join(texts)
