"""A function's LoggingConfig, as Lambda documents it: JSON application logs from the Python
runtime's logging module filtered by ApplicationLogLevel, JSON system logs filtered by
SystemLogLevel, and a log group of its own choosing
(docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html,
.../monitoring-cloudwatchlogs-log-level.html, .../python-logging.html,
.../API_LoggingConfig.html)."""

import json

import boto3
import pytest

from sandbox.testing import deploy

LOGS = '''import logging
logger = logging.getLogger()

def handler(event, context):
    logger.debug("checking the basket")
    logger.info("order placed", extra={"orderId": event["order"]})
    logger.warning({"stock": "low", "item": "tea"})
    print("a plain print stays a plain line")
    return "ok"
'''


def _events(group, stream=None):
    logs = boto3.client("logs")
    found = logs.filter_log_events(logGroupName=group)["events"]
    return [e["message"] for e in found]


def test_the_default_is_text_with_the_functions_own_log_group(sb):
    deploy("plain", LOGS)
    config = boto3.client("lambda").get_function_configuration(FunctionName="plain")
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/plain"}


def test_json_logs_are_objects_filtered_by_the_application_log_level(sb):
    deploy("structured", LOGS)
    lam = boto3.client("lambda")
    lam.update_function_configuration(FunctionName="structured",
                                      LoggingConfig={"LogFormat": "JSON"})
    config = lam.get_function_configuration(FunctionName="structured")
    # JSON without levels: INFO for both (API_LoggingConfig.html)
    assert config["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                       "SystemLogLevel": "INFO",
                                       "LogGroup": "/aws/lambda/structured"}
    answer = lam.invoke(FunctionName="structured", Payload=json.dumps({"order": "o-7"}))
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert answer["Payload"].read() == b'"ok"'
    messages = _events("/aws/lambda/structured")
    objects = [json.loads(m) for m in messages if m.startswith("{")]
    application = [o for o in objects if "level" in o]
    # DEBUG is below INFO: dropped
    assert [o["level"] for o in application] == ["INFO", "WARNING"]
    info, warning = application
    assert info["message"] == "order placed" and info["orderId"] == "o-7"
    assert info["logger"] == "root" and info["requestId"] == request_id
    assert info["timestamp"].endswith("Z")
    assert warning["message"] == {"stock": "low", "item": "tea"}  # a dict stays an object
    # print() writes a plain line, not JSON
    assert "a plain print stays a plain line\n" in messages
    # system logs as JSON: platform.initStart, platform.start, platform.report; no END line
    types = [o["type"] for o in objects if "type" in o]
    assert types == ["platform.initStart", "platform.start", "platform.report"]
    report = next(o for o in objects if o.get("type") == "platform.report")
    assert report["record"]["requestId"] == request_id
    assert report["record"]["status"] == "success"
    assert set(report["record"]["metrics"]) >= {"durationMs", "billedDurationMs",
                                                "memorySizeMB", "maxMemoryUsedMB"}
    assert not any(m.startswith(("START RequestId", "END RequestId", "REPORT RequestId"))
                   for m in messages)


def test_levels_filter_and_a_custom_log_group_receives_the_logs(sb):
    boto3.client("logs").create_log_group(logGroupName="/shop/orders")
    deploy("quiet", LOGS)
    lam = boto3.client("lambda")
    lam.update_function_configuration(FunctionName="quiet", LoggingConfig={
        "LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "WARN",
        "LogGroup": "/shop/orders"})
    lam.invoke(FunctionName="quiet", Payload=json.dumps({"order": "o-8"}))
    messages = _events("/shop/orders")
    objects = [json.loads(m) for m in messages if m.startswith("{")]
    # WARN keeps the warning only; the system's INFO events are dropped
    assert [o.get("level") for o in objects] == ["WARNING"]


def test_an_uncaught_error_is_a_json_error_line(sb):
    deploy("breaks", "def handler(event, context):\n    raise KeyError('basket')\n")
    lam = boto3.client("lambda")
    lam.update_function_configuration(FunctionName="breaks",
                                      LoggingConfig={"LogFormat": "JSON"})
    lam.invoke(FunctionName="breaks", Payload=b"{}")
    objects = [json.loads(m) for m in _events("/aws/lambda/breaks") if m.startswith("{")]
    error = next(o for o in objects if o.get("level") == "ERROR")
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'basket'"


def test_a_timeout_reports_its_status(sb):
    deploy("slow", "import time\ndef handler(event, context):\n    time.sleep(3)\n", Timeout=1)
    lam = boto3.client("lambda")
    lam.update_function_configuration(FunctionName="slow", LoggingConfig={"LogFormat": "JSON"})
    lam.invoke(FunctionName="slow", Payload=b"{}")
    objects = [json.loads(m) for m in _events("/aws/lambda/slow") if m.startswith("{")]
    report = next(o for o in objects if o.get("type") == "platform.report")
    assert report["record"]["status"] == "timeout"


def test_log_levels_need_the_json_format(sb):
    deploy("texty", LOGS)
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName="texty", LoggingConfig={
            "LogFormat": "Text", "ApplicationLogLevel": "DEBUG"})


def test_create_function_takes_the_logging_config(sb):
    deploy("born-json", LOGS, LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "WARN",
                                             "LogGroup": "/shop/born"})
    config = boto3.client("lambda").get_function_configuration(FunctionName="born-json")
    assert config["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                       "SystemLogLevel": "WARN", "LogGroup": "/shop/born"}
    # switching back to Text drops the levels, which only JSON logs have
    boto3.client("lambda").update_function_configuration(
        FunctionName="born-json", LoggingConfig={"LogFormat": "Text"})
    config = boto3.client("lambda").get_function_configuration(FunctionName="born-json")
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/shop/born"}
