"""The places in moto the sandbox hooks. If a moto upgrade moves one, this fails first, loudly,
naming the seam (docs/moto-gaps.md says what each one fills)."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest

PINNED_MOTO = "5.2.5"

SEAMS = [
    # (module, class, attribute, parameters it must take)
    ("moto.awslambda.models", "LambdaFunction", "_invoke_lambda", ["self", "event"]),
    ("moto.awslambda.policy", "Policy", "principal_formatter", ["self", "obj"]),
    ("moto.awslambda.models", "LambdaFunction", "invoke",
     ["self", "body", "request_headers", "response_headers"]),
    ("moto.awslambda.models", "LambdaFunction", "update_configuration", ["self", "config_updates"]),
    ("moto.awslambda.models", "LambdaFunction", "update_function_code", ["self", "updated_spec"]),
    ("moto.awslambda.models", "LambdaFunction", "get_configuration", ["self", "on_create"]),
    ("moto.awslambda.models", "LambdaBackend", "create_function", ["self", "spec"]),
    ("moto.awslambda.models", "LambdaBackend", "get_function",
     ["self", "function_name_or_arn", "qualifier"]),
    ("moto.awslambda.models", "LambdaBackend", "put_function_event_invoke_config",
     ["self", "function_name", "config"]),
    ("moto.awslambda.models", "LambdaBackend", "update_function_event_invoke_config",
     ["self", "function_name", "config"]),
    ("moto.awslambda.models", "LambdaBackend", "layers_versions_by_arn",
     ["self", "layer_version_arn"]),
    ("moto.awslambda.responses", "LambdaResponse", "invoke", ["self"]),
    ("moto.awslambda.responses", "LambdaResponse", "invoke_async", ["self"]),
    ("moto.core.responses", "BaseResponse", "_enrich_response", ["headers", "body"]),
    ("moto.sts.models", "STSBackend", "assume_role",
     ["self", "region_name", "role_session_name", "role_arn", "policy", "duration",
      "external_id"]),
    ("moto.logs.models", "LogsBackend", "ensure_log_group", ["self", "log_group_name"]),
    ("moto.logs.models", "LogGroup", "create_log_stream", ["self", "log_stream_name"]),
    ("moto.logs.models", "LogStream", "put_log_events", ["self", "log_events"]),
    ("moto.moto_server.werkzeug_app", "MotoRequestHandler", "log_request", None),
    ("moto.logs.models", "LogsBackend", "filter_log_events",
     ["self", "log_group_name", "log_stream_names", "start_time", "end_time", "limit",
      "next_token", "filter_pattern", "interleaved"]),
    ("moto.awslambda.models", "LambdaStorage", "_get_function_aliases", ["self", "function_name"]),
    ("moto.moto_api._internal.models", "MotoAPIBackend", "reset", ["self"]),
    ("botocore.httpsession", "URLLib3Session", "send", ["self", "request"]),
    ("moto.apigateway.models", "RestAPI", "create_deployment",
     ["self", "name", "description", "stage_variables"]),
    ("moto.apigateway.models", "RestAPI", "apply_patch_operations", ["self", "patch_operations"]),
    ("moto.apigateway.models", "Resource", "get_path", ["self"]),
    ("moto.apigateway.models", "Method", "to_json", ["self"]),
    ("moto.apigateway.models", "Authorizer", "to_json", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse", "create_rest_api", ["self"]),
    ("moto.moto_server.werkzeug_app", "MotoRequestHandler", "make_environ", ["self"]),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend", "start_execution",
     ["self", "state_machine_arn", "name", "execution_input", "trace_header"]),
    ("moto.stepfunctions.responses", "StepFunctionResponse", "stepfunction_backend", None),
    ("moto.stepfunctions.parser.backend.execution", "Execution", "start", ["self"]),
    ("moto.stepfunctions.parser.backend.execution", "Execution", "stop",
     ["self", "stop_date", "error", "cause"]),
    ("moto.stepfunctions.parser.backend.execution", "BaseExecutionWorkerCommunication",
     "terminated", ["self"]),
    ("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker",
     "_get_evaluation_environment", ["self"]),
    ("moto.stepfunctions.parser.asl.eval.environment", "Environment", "set_error",
     ["self", "error"]),
    ("moto.stepfunctions.parser.asl.eval.environment", "Environment", "set_timed_out",
     ["self"]),
    ("moto.stepfunctions.parser.asl.eval.environment", "Environment", "set_stop",
     ["self", "stop_date", "cause", "error"]),
    ("moto.stepfunctions.parser.asl.eval.event.event_manager", "EventManager",
     "_get_current_timestamp", []),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "CallbackEndpoint",
     "interrupt_all", ["self"]),
    ("moto.stepfunctions.parser.asl.utils", "boto_client", "boto_client_for",
     ["region", "service", "state_credentials"]),
    ("moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function",
     "WaitFunction", "_wait_interval", ["self", "env", "wait_seconds"]),
    ("moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp",
     "Timestamp", "_get_wait_seconds", ["self", "env"]),
    ("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl", "RetrierDecl",
     "_eval_body", ["self", "env"]),
    ("moto.stepfunctions.parser.asl.component.program.program", "Program", "eval",
     ["self", "env"]),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend", "_validate_definition",
     ["definition"]),
    ("moto.stepfunctions.parser.asl.jsonata", "jsonata", "_eval_jsonata", None),
    ("moto.stepfunctions.parser.asl.jsonata", "jsonata", "encode_jsonata_variable_declarations",
     ["bindings"]),
    ("moto.stepfunctions.parser.asl.component.intrinsic", "jsonata",
     "_DECLARATION_BY_VARIABLE_REFERENCE", None),
    ("moto.stepfunctions.parser.asl.component.common.string.string_expression", "StringJSONata",
     "_eval_body", ["self", "env"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service_sfn", "StateTaskServiceSfn", "_from_error", ["self", "env", "ex"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service_sfn", "StateTaskServiceSfn", "_normalise_parameters",
     ["self", "parameters", "boto_service_name", "service_action_name"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service", "StateTaskService", "_to_boto_request",
     ["self", "parameters", "structure_shape"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service", "StateTaskService", "_from_boto_response",
     ["self", "response", "structure_shape"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service",
     "state_task_service_callback", "_DELAY_SECONDS_SYNC_CONDITION_CHECK", None),
    ("moto.stepfunctions.parser.backend.execution", "Execution", "_get_start_execution_worker",
     ["self"]),
    ("moto.stepfunctions.parser.asl.eval.event.logging", "CloudWatchLoggingConfiguration",
     "extract_log_arn_parts_from", ["logging_configuration"]),
    ("moto.stepfunctions.parser.asl.eval.event.logging", "CloudWatchLoggingSession",
     "publish_history_log", ["self", "history_log"]),
    ("moto.stepfunctions.responses", "StepFunctionResponse", "describe_execution", ["self"]),
    ("moto.stepfunctions.models", "StepFunctionBackend", "list_executions", None),
    ("moto.stepfunctions.models", "StepFunctionBackend", "_validate_execution_arn",
     ["self", "execution_arn"]),
    ("moto.stepfunctions.parser.asl.component.state.choice.state_choice", "StateChoice",
     "_eval_state", ["self", "env"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda",
     "StateTaskLambda", "_from_error", ["self", "env", "ex"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service_lambda", "StateTaskServiceLambda", "_error_cause_from_client_error",
     ["client_error"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service_callback", "StateTaskServiceCallback", "_from_error",
     ["self", "env", "ex"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service_callback", "StateTaskServiceCallback", "_eval_wait_for_task_token",
     ["self", "env", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.execute_state", "ExecutionState",
     "_evaluate_with_timeout", ["self", "env"]),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "HeartbeatEndpoint",
     "clear_and_wait", ["self"]),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "CallbackEndpoint", "wait",
     ["self", "timeout"]),
    # sandbox/iam/principals.py: AWS managed policies on first use; whose key is this
    ("moto.iam.models", "IAMBackend", "attach_role_policy", ["self", "policy_arn", "role_name"]),
    ("moto.iam.models", "IAMBackend", "attach_user_policy", ["self", "policy_arn", "user_name"]),
    ("moto.iam.models", "IAMBackend", "attach_group_policy",
     ["self", "policy_arn", "group_name"]),
    ("moto.iam.models", "IAMBackend", "get_policy", ["self", "policy_arn"]),
    ("moto.iam.models", "IAMBackend", "get_policy_version", ["self", "policy_arn", "version_id"]),
    ("moto.iam.models", "AWSManagedPolicy", "from_data",
     ["name", "account_id", "region_name", "data"]),
    ("moto.iam.models", "IAMBackend", "get_user_from_access_key_id", ["self", "access_key_id"]),
    ("moto.sts.models", "STSBackend", "get_assumed_role_from_access_key",
     ["self", "access_key_id"]),
    # sandbox/iam/simulate.py: moto dispatches IAM's query actions to IamResponse's methods
    ("moto.iam.responses", "IamResponse", "get_policy", ["self"]),
]


def test_moto_is_the_pinned_version():
    assert version("moto") == PINNED_MOTO, (
        "moto moved: the sandbox extends its internals at the seams listed in this file. "
        "Check each one, then update PINNED_MOTO and pyproject.toml together.")


@pytest.mark.parametrize("module, cls, attribute, parameters", SEAMS,
                         ids=[f"{c}.{a}" for _, c, a, _ in SEAMS])
def test_seam_is_where_the_sandbox_expects_it(module, cls, attribute, parameters):
    owner = getattr(__import__(module, fromlist=[cls]), cls)
    assert hasattr(owner, attribute), f"{module}.{cls}.{attribute} is gone"
    if parameters is not None:
        found = list(inspect.signature(inspect.unwrap(
            owner.__dict__.get(attribute, getattr(owner, attribute)).__func__
            if isinstance(owner.__dict__.get(attribute), staticmethod)
            else getattr(owner, attribute))).parameters)
        assert found == parameters, f"{module}.{cls}.{attribute} now takes {found}"


def test_moto_still_lacks_what_the_sandbox_adds():
    """If moto starts doing one of these itself, the sandbox's patch can go."""
    from moto.awslambda import models, responses

    # read the files, not the (possibly patched) classes
    models_source, responses_source = inspect.getsource(models), inspect.getsource(responses)
    invoke_lambda = models_source.split("def _invoke_lambda(")[1].split("\n    def ")[0]
    assert "docker" in invoke_lambda  # moto still runs code only through Docker
    assert "DeadLetterConfig" not in models_source
    assert 'self._get_param("qualifier")' in responses_source
    assert "fn.event_invoke_config.append(event_config)" in models_source


def test_the_sandbox_hooks_are_installed_while_it_runs():
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    from sandbox.awslambda import responses
    from sandbox.testing import in_process_service

    original = LambdaResponse.invoke
    with in_process_service():
        assert LambdaFunction._invoke_lambda is responses.invoke_lambda
        assert LambdaResponse.invoke is responses.invoke
    assert LambdaResponse.invoke is original
