"""Every place the sandbox patches moto, in one list, applied and restored by one mechanism.

moto answers the AWS APIs; where it does something AWS does not, the sandbox replaces one of its
attributes. Each replacement is a row of :data:`SEAMS`: the target (module, attribute path), the
replacement, the moto file and why. ``sandbox.start()`` calls :func:`apply`, ``stop()`` calls
:func:`restore`, which puts back every original exactly (an attribute that was inherited is
deleted again, a staticmethod's raw value returns, a removed dict entry comes back).
``tests/test_moto_seams.py`` iterates the rows: each target exists in the pinned moto and takes
the parameters its replacement expects, so a moto upgrade that moves one fails there first.

Rows name their replacements as ``"module:attribute"`` strings, looked up when the row is
applied: importing this module imports neither moto nor the extensions, and a lazy row's
code loads with its target.
A replacement that needs the running service's state finds it at call time (each extension
keeps its state object in a module-level variable while the sandbox runs).

Kinds of row:

- a value: ``replacement`` is put in place of the target;
- a wrapper (``wraps=True``): ``replacement`` is a factory, called with moto's original;
- ``lazy=True``: the target's module is heavy; the row is applied when moto first imports it
  (``sandbox.lazy``), not at start, so that ``import sandbox`` and ``start()`` stay fast;
  ``lazy="module"``: when moto first imports that module instead (Step Functions' rows wait
  for the whole engine, ``moto.stepfunctions.parser.models``, so that no row is applied, and
  no replacement imported, midway through the engine's own imports);
- ``also_under="package"``: a module-level function that other modules import by name; every
  loaded module under the package that holds the same original is patched too, and at restore
  every module there that holds the replacement (it may have imported it since) gets the
  original back;
- ``key=..., remove=True``: the target is a dict; the row removes that entry (restore puts it
  back);
- ``each="module:function"``: the targets are computed from the loaded module:
  ``function(module)`` returns ``[(owner, attribute, value), ...]``;
- ``new=True``: moto lacks the attribute; the sandbox adds it (and removes it at restore);
- ``static=True``: the replacement is put in as a ``staticmethod``, as moto's original is.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

ABSENT: Any = object()  # the attribute was not in the owner's own __dict__ (inherited, or new)


@dataclass(frozen=True)
class Seam:
    """One patch of moto: ``module``'s ``attribute`` becomes ``replacement``."""

    module: str  # "moto.awslambda.models"
    attribute: str  # "LambdaFunction._invoke_lambda": a path from the module
    replacement: str | None  # "sandbox.awslambda.responses:invoke", or a factory with wraps
    upstream: str  # the moto file whose behaviour the row changes
    why: str  # one line: what moto does wrong there, or what AWS does that it does not
    wraps: bool = False
    lazy: bool | str = False  # apply when moto first imports the module (True: the target's)
    parameters: tuple[str, ...] | None = None  # what moto's original takes, as the row expects
    static: bool = False
    new: bool = False
    also_under: str | None = None
    key: str | None = None
    remove: bool = False
    each: str | None = None

    @property
    def trigger(self) -> str | None:
        """The module whose import applies the row; None: applied at start."""
        if self.lazy is True:
            return self.module
        return self.lazy or None

    @property
    def name(self) -> str:
        suffix = f"[{self.key}]" if self.key is not None else ""
        return f"{self.module}:{self.attribute}{suffix}"


def _rows() -> list[Seam]:
    L, R = "moto/awslambda/models.py", "moto/awslambda/responses.py"
    lam = "sandbox.awslambda.responses"
    conf = "sandbox.awslambda.configuration"
    rows = [
        # ------------------------------------------------------------------ Lambda
        Seam("moto.awslambda.responses", "LambdaResponse.invoke", f"{lam}:invoke", R,
             "Invoke runs the code in an execution environment; moto's needs Docker and gets "
             "invocation types, qualifiers, the error flag, log tail and limits wrong",
             parameters=("self",)),
        Seam("moto.awslambda.responses", "LambdaResponse.invoke_async", f"{lam}:invoke_async",
             R, "InvokeAsync queues an Event invocation like Invoke", parameters=("self",)),
        Seam("moto.awslambda.models", "LambdaFunction._invoke_lambda", f"{lam}:invoke_lambda", L,
             "the seam every service's invocation goes through (event sources, S3, SNS, Step "
             "Functions): moto runs code only through Docker", parameters=("self", "event")),
        Seam("moto.awslambda.responses", "LambdaResponse._enrich_response",
             f"{lam}:keep_request_id", "moto/core/responses.py",
             "Invoke answers with the invocation's request ID; BaseResponse._enrich_response "
             "overwrites x-amzn-requestid with a random one after every action, and no "
             "response header survives it (LambdaResponse only: inherited, deleted at restore)",
             static=True, parameters=("headers", "body")),
        Seam("moto.awslambda.policy", "Policy.principal_formatter",
             f"{conf}:principal_formatter", "moto/awslambda/policy.py",
             "AddPermission stores an account ID as its root ARN and an IAM ARN under AWS; "
             "moto wraps only service names and root ARNs", parameters=("self", "obj")),
        Seam("moto.awslambda.models", "LambdaBackend.create_function",
             f"{conf}:create_function", L,
             "moto neither checks Timeout, MemorySize and the 4 KB environment limit nor "
             "stores DeadLetterConfig", wraps=True, parameters=("self", "spec")),
        Seam("moto.awslambda.models", "LambdaBackend.put_function_event_invoke_config",
             f"{conf}:put_event_invoke_config", L,
             "Put replaces the function's event invoke config; moto appends one",
             parameters=("self", "function_name", "config")),
        Seam("moto.awslambda.models", "LambdaBackend.update_function_event_invoke_config",
             f"{conf}:update_event_invoke_config", L,
             "Update changes only the settings it names; moto does a put",
             parameters=("self", "function_name", "config")),
        Seam("moto.awslambda.models", "LambdaFunction.update_configuration",
             f"{conf}:update_configuration", L,
             "UpdateFunctionConfiguration: limits checked, DeadLetterConfig stored", wraps=True,
             parameters=("self", "config_updates")),
        Seam("moto.awslambda.models", "LambdaFunction.update_function_code",
             f"{conf}:update_function_code", L,
             "UpdateFunctionCode changes Architectures; moto ignores them", wraps=True,
             parameters=("self", "updated_spec")),
        Seam("moto.awslambda.models", "LambdaFunction.get_configuration",
             f"{conf}:get_configuration", L, "the configuration shows DeadLetterConfig",
             wraps=True, parameters=("self", "on_create")),
        # ------------------------------------------------------------------ CloudWatch Logs
        Seam("moto.logs.models", "LogsBackend.filter_log_events",
             "sandbox.logs:filter_log_events", "moto/logs/models.py",
             "FilterLogEvents interleaves every stream's events in time order (interleaved is "
             "ignored since 2019); moto groups them by stream", wraps=True,
             parameters=("self", "log_group_name", "log_stream_names", "start_time",
                         "end_time", "limit", "next_token", "filter_pattern", "interleaved")),
        # ------------------------------------------------------------------ IAM and STS
        *[Seam("moto.iam.models", f"IAMBackend.{name}",
               "sandbox.iam.principals:resolving_aws_managed", "moto/iam/models.py",
               "AWS managed policies resolve on first use; moto looks only at the ones it "
               "loaded", wraps=True, parameters=("self", "policy_arn", *rest))
          for name, rest in (("attach_role_policy", ("role_name",)),
                             ("attach_user_policy", ("user_name",)),
                             ("attach_group_policy", ("group_name",)),
                             ("get_policy", ()))],
        *[Seam("moto.iam.responses", f"IamResponse.{name}", f"sandbox.iam.simulate:{name}",
               "moto/iam/responses.py",
               "moto lacks the policy simulator (IamResponse has no simulate_* method, so "
               "moto raises NotImplementedError)", new=True)
          for name in ("simulate_principal_policy", "simulate_custom_policy")],
        Seam("moto.sts.models", "STSBackend.get_caller_identity",
             "sandbox.iam:caller_identity", "moto/sts/models.py",
             "GetCallerIdentity names the notebook's administrators; moto answers "
             "user/moto for keys it did not issue", wraps=True,
             parameters=("self", "access_key_id", "region")),
    ]
    # ---------------------------------------------------------------------- deliveries
    # services acting for the learner, each decided by IAM (sandbox/iam service_may, role_may)
    s3n, sns = "sandbox.s3.notifications", "sandbox.sns.subscriptions"
    lambda_roles, states_roles = "sandbox.awslambda.roles", "sandbox.stepfunctions.roles"
    rows += [
        Seam("moto.s3.models", "S3Backend.put_bucket_notification_configuration",
             f"{s3n}:_put_bucket_notification_configuration", "moto/s3/models.py",
             "S3 tests each notification destination's policy and refuses the configuration",
             wraps=True, lazy=True, parameters=("self", "bucket_name", "notification_config")),
        *[Seam("moto.s3.notifications", name, f"{s3n}:{name}", "moto/s3/notifications.py",
               why, lazy=True, parameters=parameters)
          for name, why, parameters in (
              ("send_event", "S3 delivers its event notifications after the request has "
               "answered (moto delivers inside PutObject), in the S3 User Guide's event format "
               "(2.1), to a destination whose policy admits S3; Lambda through its "
               "asynchronous queue", ("account_id", "event_name", "bucket", "key")),
              ("send_test_event", "the s3:TestEvent goes to queues and topics whose policy "
               "admits S3, after the configuration is put", ("account_id", "bucket")))],
        Seam("moto.s3.responses", "S3Response.put_object_tagging",
             f"{s3n}:put_object_tagging", "moto/s3/responses.py",
             "only PutObjectTagging sends s3:ObjectTagging:Put; moto's PutObject and "
             "CopyObject send one too (they store tags through S3Backend.put_object_tagging)",
             wraps=True, lazy=True, parameters=("self",)),
        Seam("moto.sns.models", "Subscription.publish", f"{sns}:_subscription_publish",
             "moto/sns/models.py",
             "SNS delivers after Publish has answered (moto delivers inside it), filtered by "
             "every documented filter-policy operator, in AWS's formats, to a Lambda or SQS "
             "subscriber only if its policy admits the topic; Lambda through its "
             "asynchronous queue",
             wraps=True, lazy=True,
             parameters=("self", "message", "message_id", "subject", "message_attributes",
                         "group_id", "deduplication_id", "message_structure")),
        Seam("moto.sns.responses", "SNSResponse.subscribe", f"{sns}:subscribe",
             "moto/sns/responses.py",
             "an HTTP/S subscription is pending until the endpoint confirms it with the token "
             "SNS posts to it; moto confirms every subscription at once",
             wraps=True, lazy=True, parameters=("self",)),
        Seam("moto.sns.responses", "SNSResponse.confirm_subscription",
             f"{sns}:confirm_subscription", "moto/sns/responses.py",
             "ConfirmSubscription checks the token and confirms that subscription; moto "
             "answers an ARN it makes up", lazy=True, parameters=("self",)),
        Seam("moto.sns.models", "SNSBackend._validate_filter_policy",
             "sandbox.sns.filters:validate_filter_policy", "moto/sns/models.py",
             "SNS accepts the cidr operator in a filter policy; moto refuses it",
             wraps=True, lazy=True, parameters=("self", "value", "scope")),
        Seam("moto.awslambda.models", "LambdaStorage.put_function",
             f"{lambda_roles}:_put_function", L,
             "a function's role must trust lambda.amazonaws.com", wraps=True, lazy=True,
             parameters=("self", "fn")),
        Seam("moto.stepfunctions.models", "StepFunctionBackend.create_state_machine",
             f"{states_roles}:_create_state_machine", "moto/stepfunctions/models.py",
             "a state machine's role must trust states.amazonaws.com", wraps=True, lazy=True,
             parameters=("self", "name", "definition", "roleArn", "tags", "publish",
                         "loggingConfiguration", "tracingConfiguration",
                         "encryptionConfiguration", "version_description", "sm_type")),
        Seam("moto.stepfunctions.models", "StepFunctionBackend.update_state_machine",
             f"{states_roles}:_update_state_machine", "moto/stepfunctions/models.py",
             "a state machine's new role must trust states.amazonaws.com", wraps=True,
             lazy=True, parameters=("self", "arn", "definition", "role_arn",
                                    "logging_configuration", "tracing_configuration",
                                    "encryption_configuration", "publish",
                                    "version_description")),
    ]
    # ---------------------------------------------------------------------- API Gateway
    ag = "sandbox.apigateway.configuration"
    rows += [
        Seam("moto.apigateway.models", "RestAPI.create_deployment", f"{ag}:create_deployment",
             "moto/apigateway/models.py",
             "a deployment snapshots what its stage serves; moto replaces an existing stage, "
             "dropping its variables and settings", wraps=True, lazy=True,
             parameters=("self", "name", "description", "stage_variables")),
        Seam("moto.apigateway.models", "RestAPI.apply_patch_operations",
             f"{ag}:apply_patch_operations", "moto/apigateway/models.py",
             "op=add path=/binaryMediaTypes/image~1png adds image/png; moto adds ''",
             wraps=True, lazy=True, parameters=("self", "patch_operations")),
        Seam("moto.apigateway.responses", "APIGatewayResponse.create_rest_api",
             f"{ag}:create_rest_api", "moto/apigateway/responses.py",
             "CreateRestApi keeps binaryMediaTypes; moto ignores them", wraps=True, lazy=True,
             parameters=("self",)),
        Seam("moto.apigatewayv2.responses", "ApiGatewayV2Response.create_api",
             f"{ag}:create_api", "moto/apigatewayv2/responses.py",
             "HTTP API quick create (Target, RouteKey, CredentialsArn); moto ignores them",
             wraps=True, lazy=True, parameters=("self",)),
    ]
    # ---------------------------------------------------------------------- SQS, Kinesis,
    # DynamoDB Streams: event source mappings are Lambda's pollers (sandbox/awslambda/mappings)
    esm = "sandbox.awslambda.mappings"
    rows += [
        Seam("moto.awslambda.models", "LambdaBackend.create_event_source_mapping",
             f"{esm}:_create_event_source_mapping", L,
             "moto delivers inside SendMessage/PutItem/PutRecord (Queue.add_message, "
             "StreamShard.add, Stream.put_record): the mapping leaves those triggers for a "
             "poller; the role must read the source; one mapping per queue and function",
             wraps=True, lazy=True, parameters=("self", "spec")),
        Seam("moto.awslambda.models", "LambdaBackend.update_event_source_mapping",
             f"{esm}:_update_event_source_mapping", L,
             "Enabled, ScalingConfig and the rest reach the poller; moto only stores them",
             wraps=True, lazy=True, parameters=("self", "uuid", "spec")),
        Seam("moto.awslambda.models", "LambdaBackend.delete_event_source_mapping",
             f"{esm}:_delete_event_source_mapping", L,
             "a deleted mapping stops delivering; moto's inline trigger kept running",
             wraps=True, lazy=True, parameters=("self", "uuid")),
        Seam("moto.awslambda.models", "EventSourceMapping.get_configuration",
             f"{esm}:_get_configuration", L,
             "State (Creating, Enabling, Enabled, Disabling, Disabled, Updating), "
             "StateTransitionReason and LastProcessingResult as the poller has them; moto "
             "reports Enabled/Disabled and no result", wraps=True, lazy=True,
             parameters=("self",)),
        Seam("moto.sqs.models", "Message.visible", f"{esm}:message_visible",
             "moto/sqs/models.py", "the same answer without datetime arithmetic: moto's "
             "ReceiveMessage asks every message, a 10,000-message backlog took seconds",
             lazy=True),
        Seam("moto.sqs.models", "Message.delayed", f"{esm}:message_delayed",
             "moto/sqs/models.py", "the same answer without datetime arithmetic", lazy=True),
        Seam("moto.sqs.models", "SQSBackend.is_message_valid_based_on_retention_period",
             f"{esm}:is_message_valid_based_on_retention_period", "moto/sqs/models.py",
             "reads the retention period alone; moto computes every queue attribute (a scan "
             "of the queue) for each message received",
             lazy=True, parameters=("self", "queue_name", "message")),
    ]
    rows += _events_rows()
    rows += _step_functions_rows()
    rows += [
        Seam("moto.cloudwatch.models", "CloudWatchBackend.get_metric_statistics",
             "sandbox.awslambda.metrics:exact_dimensions", "moto/cloudwatch/models.py",
             "GetMetricStatistics matches a metric's exact dimension set; moto takes any "
             "superset (Lambda's FunctionName figure would count its Resource figures twice)",
             wraps=True, lazy=True,
             parameters=("self", "namespace", "metric_name", "start_time", "end_time",
                         "period", "stats", "dimensions", "unit")),
        Seam("moto.s3.models", "S3Backend.create_bucket", "sandbox.s3.names:checks_names",
             "moto/s3/models.py", "CreateBucket refuses names S3's naming rules forbid "
             "(capitals, underscores, IP addresses, reserved prefixes); moto checks the length",
             wraps=True, parameters=("self", "bucket_name", "region_name", "bucket_namespace")),
    ]
    rows += _cloudformation_rows()
    rows += _appsync_rows()
    rows += _rds_rows()
    rows += _rdsproxy_rows()
    rows += _ecs_rows()
    return rows


def _ecs_rows() -> list[Seam]:
    """Amazon ECS on Fargate (sandbox/ecs)."""
    M = "moto/ecs/models.py"
    backend = "EC2ContainerServiceBackend"
    # Step Functions' ecs:runTask(.sync) integration, loaded with the engine
    ecs_task = ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
                "state_task_service_ecs")
    return [
        Seam("moto.ecs.models", f"{backend}.register_task_definition",
             "sandbox.ecs.taskdefs:register_task_definition", M,
             "a Fargate task definition needs awsvpc, a supported task cpu/memory pair and an "
             "execution role for awslogs; moto checks none of it", wraps=True, lazy=True,
             parameters=("self", "family", "container_definitions", "volumes", "network_mode",
                         "tags", "placement_constraints", "requires_compatibilities", "cpu",
                         "memory", "task_role_arn", "execution_role_arn",
                         "proxy_configuration", "inference_accelerators", "runtime_platform",
                         "ipc_mode", "pid_mode", "ephemeral_storage")),
        Seam("moto.ecs.models", f"{backend}.run_task", "sandbox.ecs:run_task", M,
             "a Fargate task goes through its lifecycle and its Python containers run; moto "
             "stores it RUNNING, runs nothing, and needs securityGroups", wraps=True, lazy=True,
             parameters=("self", "cluster_str", "task_definition_str", "count", "overrides",
                         "started_by", "tags", "launch_type", "networking_configuration",
                         "group", "platform_version", "capacity_provider_strategy")),
        Seam("moto.ecs.models", f"{backend}._calculate_task_resource_requirements",
             "sandbox.ecs:task_resource_requirements", M,
             "a container of a task with task-level memory may omit its own (ECS API "
             "Reference, ContainerDefinition memory); moto adds None and fails RunTask",
             static=True, parameters=("task_definition",)),
        Seam("moto.ecs.models", f"{backend}.create_service", "sandbox.ecs:create_service", M,
             "a Fargate service needs a network configuration whose securityGroups are "
             "optional (moto fails without them), and its tasks start", wraps=True, lazy=True,
             parameters=("self", "cluster_str", "service_name", "desired_count",
                         "task_definition_str", "load_balancers", "scheduling_strategy",
                         "tags", "deployment_controller", "launch_type", "service_registries",
                         "platform_version", "propagate_tags", "network_configuration",
                         "role_arn")),
        Seam("moto.ecs.models", f"{backend}.stop_task", "sandbox.ecs:stop_task", M,
             "StopTask stops a task through its lifecycle (UserInitiated); moto marks it "
             "STOPPED at once and fails with a bare Exception on an unknown task", wraps=True,
             lazy=True, parameters=("self", "cluster_str", "task_str", "reason")),
        *[Seam(f"{ecs_task}", f"StateTaskServiceEcs.{name}", replacement,
               ecs_task.replace("moto.", "moto/").replace(".", "/") + ".py",
               why, lazy=ENGINE, **options)
          for name, replacement, why, options in (
              ("_normalise_parameters", "sandbox.stepfunctions.integrations:normalise_parameters",
               "ecs:runTask's parameters in botocore's names (Cluster becomes cluster); moto's "
               "normalisation is a stub, and botocore refused them",
               {"wraps": True, "parameters": ("self", "parameters", "boto_service_name",
                                              "service_action_name")}),
              ("_normalise_response", "sandbox.ecs.stepfunctions:normalise_response",
               "ecs:runTask's result in Step Functions' case (Tasks, TaskArn), which the .sync "
               "pattern reads, its dates as epoch milliseconds",
               {"parameters": ("self", "response", "boto_service_name",
                               "service_action_name")}))],
        Seam("moto.ecs.responses", "EC2ContainerServiceResponse.describe_tasks",
             "sandbox.ecs:describe_tasks_response", "moto/ecs/responses.py",
             "DescribeTasks answers a task it does not find as a failure (MISSING); moto "
             "leaves it out silently", wraps=True, lazy=True, parameters=("self",)),
        Seam("moto.ecs.models", f"{backend}.list_tasks", "sandbox.ecs:list_tasks", M,
             "ListTasks lists RUNNING tasks by default and filters by serviceName; moto lists "
             "all and ignores serviceName", wraps=True, lazy=True,
             parameters=("self", "cluster_str", "container_instance", "family", "started_by",
                         "service_name", "desiredStatus")),
    ]


def _cloudformation_rows() -> list[Seam]:
    """CloudFormation (sandbox/cloudformation/): SAM templates, validation, events, rollback."""
    M, P = "moto/cloudformation/models.py", "moto/cloudformation/parsing.py"
    st, res = "sandbox.cloudformation.stacks", "sandbox.cloudformation.resources"
    backend = "CloudFormationBackend"
    return [
        Seam("moto.cloudformation.models", "Stack.parse_template", f"{st}:parse_template", M,
             "CloudFormation runs the SAM transform a template names, and refuses a resource "
             "type it cannot create; moto does neither (it skips the resource with a warning)",
             static=True, lazy=True, parameters=("template",)),
        Seam("moto.cloudformation.models", "ChangeSet._parse_template",
             f"{st}:change_set_parse_template", M,
             "a change set reads its template as a stack does (moto has a second copy)",
             lazy=True, parameters=("self",)),
        Seam("moto.cloudformation.models", f"{backend}.create_stack", f"{st}:create_stack", M,
             "parameters are checked against their constraints before anything is made; a "
             "failed stack withdraws its exports", wraps=True, lazy=True,
             parameters=("self", "name", "template", "parameters", "notification_arns", "tags",
                         "role_arn", "enable_termination_protection", "timeout_in_mins",
                         "stack_policy_body")),
        Seam("moto.cloudformation.models", f"{backend}.create_change_set",
             f"{st}:create_change_set", M,
             "a refused template leaves no REVIEW_IN_PROGRESS stack behind", wraps=True,
             lazy=True, parameters=("self", "stack_name", "change_set_name", "template",
                                    "parameters", "description", "change_set_type",
                                    "notification_arns", "tags", "role_arn")),
        Seam("moto.cloudformation.models", f"{backend}.update_stack", f"{st}:update_stack", M,
             "the new template and parameters are checked before anything changes",
             wraps=True, lazy=True,
             parameters=("self", "name", "template", "role_arn", "parameters", "tags")),
        Seam("moto.cloudformation.models", f"{backend}.execute_change_set",
             f"{st}:execute_change_set", M,
             "a failed resource rolls the stack back (moto: 'TODO ... implement rollback'); the "
             "stack shows the executed template's outputs and exports", wraps=True, lazy=True,
             parameters=("self", "change_set_name", "stack_name")),
        Seam("moto.cloudformation.models", f"{backend}.delete_stack", f"{st}:delete_stack", M,
             "a resource that cannot be deleted leaves the stack DELETE_FAILED and listed; "
             "moto lets the error out, the stack half deleted", wraps=True, lazy=True,
             parameters=("self", "name_or_stack_id")),
        Seam("moto.cloudformation.models", "Stack.create_resources",
             f"{st}:create_resources", M,
             "CreateStack rolls back a stack whose resource failed (CREATE_FAILED, "
             "ROLLBACK_COMPLETE); moto lets the exception out, leaving half a stack",
             wraps=True, lazy=True, parameters=("self",)),
        Seam("moto.cloudformation.parsing", "parse_and_create_resource",
             f"{st}:parse_and_create_resource", P,
             "each resource's CREATE_IN_PROGRESS, CREATE_COMPLETE or CREATE_FAILED (with the "
             "reason) is a stack event; moto records only the stack's own", wraps=True,
             lazy=True, parameters=("logical_id", "resource_json", "resources_map",
                                    "account_id", "region_name")),
        Seam("moto.cloudformation.parsing", "parse_and_update_resource",
             f"{st}:parse_and_update_resource", P,
             "each updated resource's UPDATE_COMPLETE or UPDATE_FAILED (with the reason) is a "
             "stack event", wraps=True, lazy=True,
             parameters=("logical_id", "resource_json", "resources_map", "account_id",
                         "region_name")),
        Seam("moto.cloudformation.parsing", "ResourceMap.update", f"{st}:resource_map_update",
             P, "a changed resource a new one uses is updated before the new one is made (moto "
             "makes every new resource first)", wraps=True, lazy=True,
             parameters=("self", "template", "parameters")),
        Seam("moto.cloudformation.parsing", "ResourceMap.build_resource_diff",
             f"{st}:build_resource_diff", P,
             "a resource changes when a parameter it uses through a Condition changes; moto "
             "looks only for a direct Ref", wraps=True, lazy=True,
             parameters=("self", "other_template", "parameters")),
        Seam("moto.cloudformation.parsing", "ResourceMap.load_parameters",
             f"{st}:load_parameters", P,
             "a CommaDelimitedList parameter's default is a list; moto splits only the values "
             "given", wraps=True, lazy=True, parameters=("self",)),
        Seam("moto.cloudformation.models", "ChangeSet.diff", f"{st}:change_set_diff", M,
             "a change set lists the resources a new parameter value changes; moto's diff "
             "ignores parameters", lazy=True, parameters=("self",)),
        Seam("moto.cloudformation.parsing", "get_model_map", f"{res}:model_map", P,
             "the types SAM expands to that moto lacks (API Gateway stages, HTTP APIs, SNS "
             "subscriptions, queue and topic policies, schedules) and a RestApi's Body",
             wraps=True, lazy=True, parameters=()),
    ]


def _appsync_rows() -> list[Seam]:
    """AppSync (sandbox/appsync): data sources, functions, resolvers and the GraphQL endpoint
    are the router's; moto is patched only where it judges a schema."""
    return [
        Seam("moto.appsync.models", "GraphqlSchema._parse_graphql_definition",
             "sandbox.appsync.schema:parse_graphql_definition", "moto/appsync/models.py",
             "a schema is built with AppSync's scalars and directives, and FAILED with the "
             "reason when it does not build; moto only parsed it (an undefined type was a "
             "SUCCESS)", lazy=True, parameters=("self",)),
        *[Seam("moto.appsync.responses", f"AppSyncResponse.{name}",
               "sandbox.appsync.configuration:answering_uris", "moto/appsync/responses.py",
               "a GraphQL API's uris are its endpoints (https://<id>.appsync-api.<region>."
               "amazonaws.com/graphql, which the sandbox serves); moto answers "
               "http://graphql.uri", wraps=True, lazy=True, parameters=("self",))
          for name in ("create_graphql_api", "get_graphql_api", "update_graphql_api",
                       "list_graphql_apis")],
        Seam("moto.appsync.models", "GraphqlAPI.__init__",
             "sandbox.appsync.configuration:graphql_api_init", "moto/appsync/models.py",
             "an API id is 26 lowercase letters and digits, as AppSync's (it names a host); "
             "moto makes a UUID", wraps=True, lazy=True,
             parameters=("self", "account_id", "region", "name", "authentication_type",
                         "additional_authentication_providers", "log_config", "xray_enabled",
                         "user_pool_config", "open_id_connect_config",
                         "lambda_authorizer_config", "visibility", "backend")),
        Seam("moto.appsync.models", "GraphqlAPIKey.__init__",
             "sandbox.appsync.configuration:api_key_init", "moto/appsync/models.py",
             "an API key is da2- and 26 characters, as AppSync's; moto makes six",
             wraps=True, lazy=True, parameters=("self", "description", "expires")),
    ]


def _events_rows() -> list[Seam]:
    """EventBridge and EventBridge Scheduler (sandbox/events, sandbox/scheduler)."""
    M, R = "moto/events/models.py", "moto/events/responses.py"
    bus = "sandbox.events.bus"
    return [
        Seam("moto.events.models", "EventsBackend.put_events", f"{bus}:put_events", M,
             "PutEvents answers per entry and delivers in the background; moto delivers inside "
             "the call, to disabled rules too, and its NotImplementedError for SNS and Step "
             "Functions targets failed the call with HTTP 500, losing the other rules' events",
             lazy=True, parameters=("self", "events")),
        Seam("moto.events.models", "Rule.send_to_targets", f"{bus}:send_to_targets", M,
             "a rule's targets (moto's replays call it) go through the sandbox's delivery",
             lazy=True, parameters=("self", "original_event", "transform_input")),
        Seam("moto.events.models", "EventPattern.matches_event",
             "sandbox.events.patterns:matches_event", M,
             "arrays of objects, true against 1, anything-but with wildcard or lists of "
             "prefixes, matched as EventBridge matches them", lazy=True,
             parameters=("self", "event")),
        Seam("moto.events.models", "EventsBackend.put_targets", f"{bus}:put_targets", M,
             "PutTargets refuses a Step Functions, Kinesis, API destination or cross-account "
             "bus target without a RoleArn", wraps=True, lazy=True,
             parameters=("self", "name", "event_bus_arn", "targets")),
        Seam("moto.events.models", "EventsBackend.put_rule", f"{bus}:put_rule", M,
             "PutRule refuses a pattern with an unknown operator or a malformed one",
             wraps=True, lazy=True,
             parameters=("self", "name", "description", "event_bus_arn", "event_pattern",
                         "role_arn", "scheduled_expression", "state", "managed_by", "tags")),
        Seam("moto.events.responses", "EventsHandler.put_events", f"{bus}:learner_put_events",
             R, "a learner's PutEvents may not use an AWS source (aws.*)", wraps=True,
             lazy=True, parameters=("self",)),
        Seam("moto.events.responses", "EventsHandler.test_event_pattern",
             f"{bus}:test_event_pattern", R, "TestEventPattern answers; moto's answers nothing",
             lazy=True, parameters=("self",)),
        *[Seam("moto.scheduler.models", f"EventBridgeSchedulerBackend.{name}",
               f"sandbox.scheduler:{name}", "moto/scheduler/models.py",
               "a schedule expression or time zone Scheduler refuses is refused; moto stores "
               "anything", wraps=True, lazy=True,
               parameters=("self", "description", "end_date", "flexible_time_window",
                           "group_name", "kms_key_arn", "name", "schedule_expression",
                           "schedule_expression_timezone", "start_date", "state", "target",
                           *extra))
          for name, extra in (("create_schedule", ("action_after_completion",)),
                              ("update_schedule", ()))],
    ]


def _rds_rows() -> list[Seam]:
    """Aurora PostgreSQL on real servers and the Data API (sandbox/rds)."""
    M = "moto/rds/models.py"
    cl = "sandbox.rds.clusters"
    return [
        Seam("moto.rds.models", "RDSBackend.create_db_cluster", f"{cl}:create_db_cluster", M,
             "an aurora-postgresql cluster gets a real PostgreSQL server; moto stores a record",
             wraps=True, lazy=True, parameters=("self", "kwargs")),
        Seam("moto.rds.models", "RDSBackend.delete_db_cluster", f"{cl}:delete_db_cluster", M,
             "deleting a cluster ends its server and deletes its data", wraps=True, lazy=True,
             parameters=("self", "cluster_identifier", "snapshot_name")),
        Seam("moto.rds.models", "RDSBackend.modify_db_cluster", f"{cl}:modify_db_cluster", M,
             "a new master password and scaling configuration reach PostgreSQL and the "
             "capacity model", wraps=True, lazy=True, parameters=("self", "kwargs")),
        Seam("moto.rds.models", "RDSBackend.reboot_db_instance", f"{cl}:reboot_db_instance",
             M, "rebooting restarts the cluster's server: a new max_connections takes effect",
             wraps=True, lazy=True, parameters=("self", "db_instance_identifier")),
        *[Seam("moto.rds.models", f"RDSBackend.{name}", f"{cl}:{name}", M,
               f"{name} stops or starts the cluster's server (its data kept)", wraps=True,
               lazy=True, parameters=("self", "cluster_identifier"))
          for name in ("stop_db_cluster", "start_db_cluster")],
        Seam("moto.rds.models", "RDSBackend.create_db_instance", f"{cl}:create_db_instance", M,
             "a backed cluster's instance answers on the cluster's port", wraps=True,
             lazy=True, parameters=("self", "db_kwargs")),
        Seam("moto.rds.models", "DBCluster.endpoint", f"{cl}:cluster_endpoint", M,
             "a backed cluster's endpoint is the loopback address a handler can reach; moto's "
             "DNS name resolves nowhere", wraps=True, lazy=True),
        Seam("moto.rds.models", "DBCluster.reader_endpoint", f"{cl}:cluster_endpoint", M,
             "the reader endpoint too (the one server plays writer and reader)", wraps=True,
             lazy=True),
        Seam("moto.rds.models", "DBInstance.address", f"{cl}:instance_address", M,
             "a backed cluster's instance has the loopback address", wraps=True, lazy=True),
        Seam("moto.rds.models", "DBCluster.status", f"{cl}:cluster_status", M,
             "a backed cluster is creating until its server answers; moto's flips to "
             "available on the first read", wraps=True, lazy=True),
        Seam("moto.rds.models", "DBInstanceClustered.status", f"{cl}:INSTANCE_STATUS", M,
             "a backed cluster's instance is creating until the server answers; moto's is "
             "available at once", new=True, lazy=True),
        Seam("moto.rds.models", "DBCluster.enable_http_endpoint", f"{cl}:enable_http_endpoint",
             M, "the Data API is available for Aurora PostgreSQL Serverless v2 and "
             "provisioned; moto kept EnableHttpEndpoint for Serverless v1 versions only",
             wraps=True, lazy=True),
        Seam("moto.rds.models", "MasterUserSecret._generate_secret_string",
             f"{cl}:secret_string", M,
             "RDS's managed secret holds the master username and a generated password; moto "
             "wrote admin/P@55w0rd! for every cluster", wraps=True, lazy=True,
             parameters=("self",)),
        # the Data API (sandbox/rds/data.py)
        Seam("moto.rdsdata.urls", "url_paths", "sandbox.rds.data:url_paths",
             "moto/rdsdata/urls.py", "every Data API operation has its path; moto routes "
             "/Execute only", wraps=True, lazy=True),
        Seam("moto.rdsdata.responses", "RDSDataServiceResponse.execute_statement",
             "sandbox.rds.data:execute_statement", "moto/rdsdata/responses.py",
             "ExecuteStatement runs the SQL on the cluster's PostgreSQL; moto answers a queue "
             "of canned results, or nothing", lazy=True, parameters=("self",)),
        *[Seam("moto.rdsdata.responses", f"RDSDataServiceResponse.{name}",
               f"sandbox.rds.data:{name}", "moto/rdsdata/responses.py",
               f"{name} is missing from moto", new=True, lazy=True)
          for name in ("batch_execute_statement", "begin_transaction", "commit_transaction",
                       "rollback_transaction")],
    ]


ENGINE = "moto.stepfunctions.parser.models"  # imported on the first Step Functions request


def _step_functions_rows() -> list[Seam]:
    P = "moto.stepfunctions.parser"
    ex, ti, fa = ("sandbox.stepfunctions.executions", "sandbox.stepfunctions.timing",
                  "sandbox.stepfunctions.failures")
    task = f"{P}.asl.component.state.exec.state_task"
    callback = f"{task}.service.state_task_service_callback"
    sfn = f"{task}.service.state_task_service_sfn"

    def row(module: str, attribute: str, replacement: str | None, why: str,
            **options: Any) -> Seam:
        upstream = "moto/" + module[len("moto."):].replace(".", "/") + ".py"
        return Seam(module, attribute, replacement, upstream, why, lazy=ENGINE, **options)

    return [
        # the engine's own AWS calls (engine.py)
        row(f"{P}.asl.utils.boto_client", "boto_client_for",
            "sandbox.stepfunctions.engine:boto_client_for",
            "the engine calls AWS as the state machine's role; moto signs with fake keys",
            also_under=P, parameters=("region", "service", "state_credentials")),
        row(f"{P}.api", "<error classes>.TYPE", None,
            "moto's AWSError reads TYPE, the parser's errors declare code: clients got an "
            "empty error code", each="sandbox.stepfunctions.engine:error_code_seams"),
        # executions (executions.py)
        row(f"{P}.models", "StepFunctionsParserBackend._validate_definition",
            "sandbox.stepfunctions.validation:validate_definition",
            "definitions are checked as AWS checks them (InvalidDefinition)", static=True,
            parameters=("definition",)),
        row(f"{P}.models", "StepFunctionsParserBackend.start_execution",
            f"{ex}:start_execution",
            "an unnamed execution gets a UUID; Express workflows run as Express", wraps=True,
            parameters=("self", "state_machine_arn", "name", "execution_input",
                        "trace_header")),
        row(f"{P}.models", "StepFunctionsParserBackend.list_executions",
            f"{ex}:list_executions", "Express state machines have no executions to list",
            wraps=True, parameters=("self", "state_machine_arn", "status_filter")),
        row(f"{P}.models", "StepFunctionsParserBackend._validate_execution_arn",
            f"{ex}:validate_execution_arn", "an Express execution's ARN is refused",
            wraps=True, parameters=("self", "execution_arn")),
        row("moto.stepfunctions.responses", "StepFunctionResponse.describe_execution",
            f"{ex}:describe_execution_output",
            "DescribeExecution shows the output of a finished execution", wraps=True,
            parameters=("self",)),
        row("moto.stepfunctions.responses", "StepFunctionResponse.start_sync_execution",
            f"{ex}:start_sync_execution_response",
            "StartSyncExecution runs an Express workflow to its end; moto lacks the action",
            new=True),
        row(f"{P}.backend.execution", "Execution.start", f"{ex}:execution_start",
            "an execution gets the sandbox's clock and its logging session", wraps=True,
            parameters=("self",)),
        row(f"{P}.backend.execution", "Execution.stop", f"{ex}:execution_stop",
            "StopExecution ends a waiting callback and the execution is ABORTED",
            parameters=("self", "stop_date", "error", "cause")),
        row(f"{P}.asl.eval.environment", "Environment.set_error", f"{ex}:keep_stopped",
            "a stopped execution stays ABORTED; moto lets the interrupted task's error "
            "overwrite it", wraps=True, parameters=("self", "error")),
        row(f"{P}.asl.eval.environment", "Environment.set_timed_out", f"{ex}:keep_stopped",
            "a stopped execution stays ABORTED", wraps=True, parameters=("self",)),
        row(f"{P}.asl.component.state.state", "CommonStateField._eval_body",
            f"{ti}:state_eval_body",
            "simulated time skips ahead only while every state in flight waits: a Task state "
            "at work keeps its execution's timeline in real time", wraps=True,
            parameters=("self", "env")),
        row(f"{P}.asl.component.state.exec.state_parallel.branches_decl", "CustomErrorName",
            f"{fa}:carried_error_name",
            "a branch's States.* error carried up by a Parallel keeps its reserved name (moto "
            "raised ValueError)"),
        row(f"{P}.asl.component.state.exec.state_map.iteration.iteration_worker",
            "CustomErrorName", f"{fa}:carried_error_name",
            "an iteration's States.* error carried up by a Map keeps its reserved name (moto "
            "raised ValueError)"),
        row(f"{P}.asl.component.common.error_name.custom_error_name", "CustomErrorName.__init__",
            f"{fa}:custom_error_name_init",
            "a Fail state's own error may start with States., as AWS's samples' do",
            parameters=("self", "error_name")),
        row(f"{P}.backend.execution_worker", "ExecutionWorker._get_evaluation_environment",
            f"{ex}:evaluation_environment", "the history is written on the execution's clock",
            wraps=True, parameters=("self",)),
        # simulated time (timing.py)
        row(f"{P}.asl.component.state.exec.execute_state",
            "ExecutionState._evaluate_with_timeout", f"{ti}:evaluate_with_timeout",
            "a Task's TimeoutSeconds runs on the sandbox's clock", parameters=("self", "env")),
        row(callback, "StateTaskServiceCallback._eval_wait_for_task_token",
            f"{ti}:eval_wait_for_task_token",
            "HeartbeatSeconds and the task token's wait run on the sandbox's clock",
            parameters=("self", "env", "timeout_seconds", "callback_endpoint",
                        "heartbeat_endpoint")),
        row(f"{P}.asl.component.state.wait.wait_function.wait_function",
            "WaitFunction._wait_interval", f"{ti}:wait_interval",
            "a Wait state waits on the sandbox's clock", parameters=("self", "env",
                                                                     "wait_seconds")),
        row(f"{P}.asl.component.state.wait.wait_function.timestamp",
            "Timestamp._get_wait_seconds", f"{ti}:timestamp_wait_seconds",
            "a Wait until a Timestamp counts from the sandbox's clock",
            parameters=("self", "env")),
        row(f"{P}.asl.component.common.retry.retrier_decl", "RetrierDecl._eval_body",
            f"{ti}:retrier_eval_body", "retry intervals run on the sandbox's clock",
            parameters=("self", "env")),
        row(f"{P}.asl.component.program.program", "Program.eval", f"{ti}:program_eval",
            "the execution's TimeoutSeconds runs on the sandbox's clock",
            parameters=("self", "env")),
        row(f"{P}.backend.execution", "BaseExecutionWorkerCommunication.terminated",
            f"{ti}:reflect_stop_date", "the stop date is the simulated one", wraps=True,
            parameters=("self",)),
        # failures (failures.py)
        row(f"{P}.asl.component.state.choice.state_choice", "StateChoice._eval_state",
            f"{fa}:choice_eval_state",
            "a Choice with no match fails with States.NoChoiceMatched, AWS's cause",
            wraps=True, parameters=("self", "env")),
        row(f"{task}.state_task_lambda", "StateTaskLambda._from_error",
            f"{fa}:lambda_task_from_error",
            "a missing function fails with Lambda.ResourceNotFoundException, AWS's cause",
            wraps=True, parameters=("self", "env", "ex")),
        row(callback, "StateTaskServiceCallback._from_error", f"{fa}:callback_task_from_error",
            "a missed heartbeat fails with States.HeartbeatTimeout", wraps=True,
            parameters=("self", "env", "ex")),
        # nested executions (integrations.py)
        row(sfn, "StateTaskServiceSfn._from_error", f"{fa}:sfn_task_from_error",
            "a child execution's failure names its error as AWS does", wraps=True,
            parameters=("self", "env", "ex")),
        row(sfn, "StateTaskServiceSfn._normalise_parameters",
            "sandbox.stepfunctions.integrations:normalise_parameters",
            "the sfn integration's parameters in botocore's names (stateMachineArn)",
            wraps=True, parameters=("self", "parameters", "boto_service_name",
                                    "service_action_name")),
        row(sfn, "StateTaskServiceSfn._normalise_response",
            "sandbox.stepfunctions.integrations:normalise_response",
            "the sfn integration's result in Step Functions' case (ExecutionArn)",
            parameters=("self", "response", "boto_service_name", "service_action_name")),
        row(callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK",
            "sandbox.stepfunctions.integrations:SYNC_POLL_SECONDS",
            ".sync polls the child every 0.5 s; a sandbox's children take milliseconds"),
        # aws-sdk integrations (sdk.py)
        row(f"{task}.service.state_task_service_aws_sdk",
            "StateTaskServiceAwsSdk._normalise_service_error_name",
            "sandbox.stepfunctions.sdk:service_error_name",
            "an aws-sdk error is S3.NoSuchKeyException, as AWS names it; moto knows two "
            "services' names and wrote s3.NoSuchKeyException", static=True,
            parameters=("service_name",)),
        row(f"{task}.service.state_task_service_aws_sdk",
            "StateTaskServiceAwsSdk._get_boto_service_name",
            "sandbox.stepfunctions.sdk:get_boto_service_name",
            "aws-sdk:eventbridge and aws-sdk:cloudwatchlogs call EventBridge and CloudWatch "
            "Logs; moto asked botocore for services named so", wraps=True,
            parameters=("self", "boto_service_name")),
        # Distributed Map (distributed.py)
        row(f"{P}.asl.parse.asl_parser", "AmazonStateLanguageParser.parse",
            "sandbox.stepfunctions.distributed:parse",
            "a Distributed Map's EXPRESS child workflows and a whole "
            "ToleratedFailurePercentage are valid; moto's grammar refused them", wraps=True,
            static=True, parameters=("definition",)),
        row(f"{P}.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
            "ResourceEvalS3._handle_list_objects_v2",
            "sandbox.stepfunctions.distributed:handle_list_objects_v2",
            "an S3 listing's items are AWS's (LastModified in epoch seconds, every page); "
            "moto's datetimes broke DescribeExecution", static=True,
            parameters=("env", "resource_runtime_part", "state_credentials")),
        row(f"{P}.asl.component.state.exec.state_map.iteration.distributed_iteration_component",
            "DistributedIterationComponent._map_run",
            "sandbox.stepfunctions.distributed:map_run",
            "children failing beyond ToleratedFailureCount/Percentage fail the map run with "
            "States.ExceededToleratedFailureThreshold; moto's Map succeeded with nulls",
            wraps=True, parameters=("self", "env", "eval_input")),
        row(f"{P}.asl.component.state.exec.state_map.iteration.itemprocessor."
            "distributed_item_processor_worker", "DistributedItemProcessorWorker._eval_job",
            "sandbox.stepfunctions.distributed:eval_job",
            "each child's input, status and output are kept for ResultWriter", wraps=True,
            parameters=("self", "env", "job")),
        row(f"{P}.asl.component.state.exec.state_map.result_writer.resource_eval."
            "resource_eval_s3", "ResourceEvalS3._handle_put_object",
            "sandbox.stepfunctions.distributed:handle_put_object",
            "ResultWriter writes SUCCEEDED_0.json/FAILED_0.json and lists them in "
            "manifest.json; moto dropped the results", static=True,
            parameters=("env", "resource_runtime_part", "state_credentials")),
        row(f"{P}.asl.component.state.exec.state_map.state_map", "StateMap._eval_execution",
            "sandbox.stepfunctions.distributed:map_eval_execution",
            "a Distributed Map's ItemBatcher batches its items (moto's grammar lacks it)",
            wraps=True, parameters=("self", "env")),
        # JSONata (jsonata.py)
        row(f"{P}.asl.jsonata.jsonata", "_eval_jsonata", "sandbox.stepfunctions.jsonata:evaluate",
            "moto leaves the JSONata evaluator unset (None): every JSONata state fails"),
        row(f"{P}.asl.jsonata.jsonata", "encode_jsonata_variable_declarations",
            "sandbox.stepfunctions.jsonata:encode_variable_declarations",
            "moto writes a string variable between quotes as it is, breaking the expression",
            also_under=P, parameters=("bindings",)),
        row(f"{P}.asl.component.common.string.string_expression", "StringJSONata._eval_body",
            "sandbox.stepfunctions.jsonata:failing_as_aws_does",
            "a failing JSONata expression fails the state as AWS does", wraps=True,
            parameters=("self", "env")),
        *[row(f"{P}.asl.component.intrinsic.jsonata", "_DECLARATION_BY_VARIABLE_REFERENCE",
              None, f"moto declares {name} as a stub; jsonata-python's own is used",
              key=name, remove=True)
          for name in ("$hash", "$uuid")],
    ]


def _rdsproxy_rows() -> list[Seam]:
    """RDS Proxy (sandbox/rdsproxy): a proxy's endpoint answered by a real pooling proxy."""
    M, px = "moto/rds/models.py", "sandbox.rdsproxy.proxies"
    return [
        Seam("moto.rds.models", "RDSBackend.create_db_proxy", f"{px}:create_db_proxy", M,
             "CreateDBProxy starts a real proxy on loopback (PostgreSQL only) and refuses a role "
             "RDS cannot assume; moto's endpoint is a name that answers nothing", wraps=True,
             lazy=True, parameters=("self", "db_proxy_name", "engine_family", "auth",
                                    "role_arn", "vpc_subnet_ids", "vpc_security_group_ids",
                                    "require_tls", "idle_client_timeout", "debug_logging",
                                    "tags")),
        Seam("moto.rds.models", "RDSBackend.delete_db_proxy", f"{px}:delete_db_proxy", M,
             "DeleteDBProxy stops the proxy's listener; moto answers an unknown name with a "
             "KeyError (HTTP 500)", wraps=True, lazy=True,
             parameters=("self", "proxy_name")),
        Seam("moto.rds.models", "RDSBackend.register_db_proxy_targets",
             f"{px}:register_db_proxy_targets", M,
             "a target gets its cluster's real endpoint and port (moto: always 5432); an unknown "
             "proxy or cluster is refused as RDS refuses it (moto: KeyError)", wraps=True,
             lazy=True, parameters=("self", "db_proxy_name", "target_group_name",
                                    "db_cluster_identifiers", "db_instance_identifiers")),
        Seam("moto.rds.models", "RDSBackend.modify_db_proxy_target_group",
             f"{px}:modify_db_proxy_target_group", M,
             "ConnectionPoolConfig's ranges are checked and InitQuery kept; moto stores any "
             "value", wraps=True, lazy=True, parameters=("self", "proxy_name", "config")),
        Seam("moto.rds.models", "DBProxyTarget.target_health", f"{px}:target_health", M,
             "a target's health is whether the proxy reaches it; moto's turns AVAILABLE on the "
             "second look whatever the database does", lazy=True),
    ]


SEAMS: list[Seam] = _rows()


# ---------------------------------------------------------------------- looking things up
def resolve(reference: str) -> Any:
    """``"package.module:attr.path"`` -> the object."""
    module_name, _, path = reference.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in path.split("."):
        found = getattr(found, part)
    return found


def owner_of(seam: Seam, module: ModuleType) -> tuple[Any, str]:
    """The object holding the target attribute, and the attribute's name."""
    *path, name = seam.attribute.split(".")
    owner: Any = module
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def raw(owner: Any, name: str) -> Any:
    """What ``owner`` itself holds under ``name`` (a staticmethod as such), or ABSENT."""
    return vars(owner).get(name, ABSENT)


def inherited(owner: Any, name: str) -> Any:
    """The raw value ``owner`` finds through its classes, or ABSENT."""
    try:
        return inspect.getattr_static(owner, name)
    except AttributeError:
        return ABSENT


def modules_under(package: str) -> Iterator[ModuleType]:
    for name, module in list(sys.modules.items()):
        if module is not None and (name == package or name.startswith(package + ".")):
            yield module


# ---------------------------------------------------------------------- applying
@dataclass
class _Applied:
    owner: Any  # a class, a module or a dict
    name: Any  # an attribute name, or a dict key
    original: Any  # raw, or ABSENT
    replacement: Any
    seam: Seam


_lock = threading.RLock()
_applied: list[_Applied] = []
_applied_seams: set[Seam] = set()
_hooks: dict[str, Callable[[ModuleType | None], None]] = {}
_active = False


def applied() -> bool:
    """Are the seams applied (a sandbox runs in this process)?"""
    return _active


def apply(seams: list[Seam] | None = None) -> None:
    """Patch moto: every row now, or a lazy one when moto first imports its module."""
    global _active
    from . import lazy

    rows = SEAMS if seams is None else seams
    with _lock:
        if _active:
            raise RuntimeError("the seams are applied already: restore() them first")
        _active = True
        eager = [seam for seam in rows if seam.trigger is None]
        triggers = list(dict.fromkeys(seam.trigger for seam in rows if seam.trigger))
        for trigger in triggers:
            _hooks[trigger] = _patcher([seam for seam in rows if seam.trigger == trigger])
    try:
        _patcher(eager)(None)
        for trigger in triggers:  # runs at once for a module imported already
            lazy.when_imported(trigger, _hooks[trigger])
    except BaseException:
        restore()  # no half-patched moto
        raise


def _patcher(rows: list[Seam]) -> Callable[[ModuleType | None], None]:
    def patch(trigger: ModuleType | None) -> None:
        with _lock:
            if not _active:  # an import that began as the sandbox stopped
                return
            for seam in rows:
                if seam not in _applied_seams:
                    _apply(seam, importlib.import_module(seam.module))
                    _applied_seams.add(seam)

    return patch


def _apply(seam: Seam, module: ModuleType) -> None:
    if seam.each is not None:
        for owner, name, value in resolve(seam.each)(module):
            _set(seam, owner, name, value)
        return
    owner, name = owner_of(seam, module)
    if seam.key is not None:
        assert seam.remove, f"{seam.name}: a dict entry row removes its entry"
        table = getattr(owner, name)
        _applied.append(_Applied(table, seam.key, table.get(seam.key, ABSENT), ABSENT, seam))
        table.pop(seam.key, None)
        return
    assert seam.replacement is not None, seam.name
    replacement = resolve(seam.replacement)
    original = getattr(owner, name, None)
    if seam.wraps:
        replacement = replacement(original)
    if seam.static:
        replacement = staticmethod(replacement)
    _set(seam, owner, name, replacement)
    if seam.also_under:
        for other in modules_under(seam.also_under):
            if other is not owner and vars(other).get(name, ABSENT) is original:
                _set(seam, other, name, replacement)


def _set(seam: Seam, owner: Any, name: str, value: Any) -> None:
    _applied.append(_Applied(owner, name, raw(owner, name), value, seam))
    setattr(owner, name, value)


def restore() -> None:
    """Put back every original, exactly: the sandbox stops; moto is moto again."""
    global _active
    from . import lazy

    with _lock:
        _active = False
        for module_name, hook in _hooks.items():
            lazy.forget(module_name, hook)
        _hooks.clear()
        while _applied:
            patch = _applied.pop()
            if isinstance(patch.owner, dict):
                if patch.original is not ABSENT:
                    patch.owner[patch.name] = patch.original
                continue
            if patch.original is ABSENT:
                if patch.name in vars(patch.owner):
                    delattr(patch.owner, patch.name)
            else:
                setattr(patch.owner, patch.name, patch.original)
            if patch.seam.also_under:  # modules that imported the replacement since
                home = getattr(patch.replacement, "__module__", None)
                for other in modules_under(patch.seam.also_under):
                    if vars(other).get(patch.name, ABSENT) is patch.replacement \
                            and other.__name__ != home:
                        setattr(other, patch.name, patch.original)
        _applied_seams.clear()
