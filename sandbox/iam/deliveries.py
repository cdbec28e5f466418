"""What services do on the learner's behalf, checked as AWS checks it.

A service that invokes a function or writes to a queue is a service principal
(``s3.amazonaws.com``): only the resource's policy can let it in, with the source's ARN and
account in the request's context. Each check sits at the moto seam where the service acts
(rows of ``sandbox/seams.py``):

- S3 event notifications (``moto/s3/notifications.py``): at configuration time S3 tests each
  destination and refuses the whole configuration, ``InvalidArgument: Unable to validate the
  following destination configurations``; a destination that stops allowing it later is skipped.
- SNS subscriptions (``moto/sns/models.py`` ``Subscription.publish``): a Lambda or SQS endpoint
  whose policy does not admit the topic gets nothing; the publisher never knows.
- EventBridge targets (``moto/events/models.py`` ``Rule.send_to_targets``): SQS targets need
  the queue's policy; Lambda targets, which moto does not deliver at all, are invoked
  asynchronously when the function policy admits the rule.
- Lambda itself: a function's role must trust ``lambda.amazonaws.com`` (CreateFunction says
  ``The role defined for the function cannot be assumed by Lambda.``); an SQS event source
  mapping needs a role that may read the queue; and the function's log lines reach CloudWatch
  Logs only when its role may write them (the classic "my function has no logs").
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from . import principals
from .actions import Access


def _enforcer() -> Any:
    from . import enforcer

    found = enforcer()
    return found if found is not None and found.enforcing else None


def service_may(service: str, action: str, resource: str, *, source_arn: str,
                source_account: str, source: str) -> bool:
    """May AWS service ``service`` (``s3.amazonaws.com``) perform ``action`` on ``resource``
    for ``source_arn``? True when IAM is not enforced."""
    enforcer = _enforcer()
    if enforcer is None:
        return True
    return enforcer.authorize_service(service, Access(action, resource, {}),
                                      source_arn=source_arn, source_account=source_account,
                                      source=source)


def role_may(role_arn: str, action: str, resource: str, *, region: str, source: str,
             session_key: str | None = None) -> bool:
    """May ``role_arn`` (its session with ``session_key``, when given) perform ``action`` on
    ``resource``? True when IAM is not enforced or the role is gone (the service then fails
    in its own way)."""
    enforcer = _enforcer()
    if enforcer is None:
        return True
    principal = (session_key and principals.principal_for_access_key(session_key)) or \
        principals.policies_of(role_arn)
    if principal is None:
        return True
    return enforcer.authorize(principal, Access(action, resource, {}), region=region,
                              source=source).allowed


# ---------------------------------------------------------------------- S3
def _bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _s3_refused_destinations(bucket: Any, account: str) -> list[str]:
    """The ARNs of the configured destinations whose policy does not admit S3."""
    config = bucket.notification_configuration
    if config is None:
        return []
    checks = [(n.arn, "lambda:InvokeFunction") for n in config.cloud_function]
    checks += [(n.arn, "sqs:SendMessage") for n in config.queue]
    checks += [(n.arn, "sns:Publish") for n in config.topic]
    return [arn for arn, action in checks if not service_may(
        "s3.amazonaws.com", action, arn, source_arn=_bucket_arn(bucket.name),
        source_account=account, source=f"S3 notification configuration of {bucket.name}")]


def _put_bucket_notification_configuration(original: Any) -> Any:
    def put_bucket_notification_configuration(self: Any, bucket_name: str,
                                              notification_config: dict[str, Any]) -> None:
        from moto.s3.exceptions import S3ClientError

        bucket = self.get_bucket(bucket_name)
        before = bucket.notification_configuration
        original(self, bucket_name, notification_config)
        if _s3_refused_destinations(bucket, self.account_id):
            bucket.notification_configuration = before
            # AWS also names each refused destination (ArgumentName1...); botocore shows only
            # the code and this message
            raise S3ClientError("InvalidArgument",
                                "Unable to validate the following destination configurations")

    return put_bucket_notification_configuration


def _bucket_of(event_body: Any) -> str:
    try:
        return event_body["Records"][0]["s3"]["bucket"]["name"]
    except (KeyError, IndexError, TypeError):
        return event_body.get("Bucket", "") if isinstance(event_body, dict) else ""


def _s3_delivery(original: Any, action: str, arn_of: Any) -> Any:
    def deliver(account_id: str, event_body: Any, target: str, region_name: str) -> None:
        bucket = _bucket_of(event_body)
        arn = arn_of(account_id, target, region_name)
        if service_may("s3.amazonaws.com", action, arn, source_arn=_bucket_arn(bucket),
                       source_account=account_id, source=f"S3 event notification of {bucket}"):
            original(account_id, event_body, target, region_name)

    return deliver


# ---------------------------------------------------------------------- SNS
def _subscription_publish(original: Any) -> Any:
    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if self.protocol in ("lambda", "sqs"):
            action = "lambda:InvokeFunction" if self.protocol == "lambda" else "sqs:SendMessage"
            if not service_may("sns.amazonaws.com", action, self.endpoint,
                               source_arn=self.topic.arn, source_account=self.account_id,
                               source=f"SNS delivery from {self.topic.name}"):
                return
        original(self, message, message_id, *args, **kwargs)

    return publish


# ---------------------------------------------------------------------- EventBridge
def _send_to_targets(original: Any) -> Any:
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        functions = [t for t in self.targets if ":lambda:" in t["Arn"]]
        if functions:
            for target in functions:
                _invoke_from_rule(self, target, original_event)
            rest = copy.copy(self)
            rest.targets = [t for t in self.targets if t not in functions]
            original(rest, original_event, transform_input)
        else:
            original(self, original_event, transform_input)

    return send_to_targets


def _invoke_from_rule(rule: Any, target: dict[str, Any], event: Any) -> None:
    """EventBridge invokes a Lambda target asynchronously with the event (or the target's
    Input / InputPath), when the function policy admits this rule."""
    from moto.awslambda.models import lambda_backends

    from ..server import service

    if not service_may("events.amazonaws.com", "lambda:InvokeFunction", target["Arn"],
                       source_arn=rule.arn, source_account=rule.account_id,
                       source=f"EventBridge rule {rule.name}"):
        return
    payload = _target_input(target, event)
    parts = target["Arn"].split(":")
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(
            parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:  # the function is gone: EventBridge counts a failed invocation
        return
    sandbox = service.current()
    if sandbox is not None:
        sandbox.lambda_runtime.async_invoker.submit(fn, payload.encode(), str(uuid.uuid4()),
                                                    target["Arn"])


def _target_input(target: dict[str, Any], event: Any) -> str:
    """The target's payload: its constant Input, the part of the event its InputPath names,
    its InputTransformer's template, or the whole event."""
    if "Input" in target:
        return target["Input"]
    if "InputPath" in target:
        found = event
        for key in target["InputPath"].lstrip("$").strip(".").split("."):
            if key:
                found = found.get(key) if isinstance(found, dict) else None
        return json.dumps(found)
    if "InputTransformer" in target:
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        shaped = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                           input_paths_map=transformer.get("InputPathsMap", {}),
                                           event=event)
        return shaped if isinstance(shaped, str) else json.dumps(shaped)
    return json.dumps(event)


def _send_to_sqs_queue(original: Any) -> Any:
    def send_to_sqs_queue(self: Any, resource_id: str, event: Any, group_id: Any = None) -> None:
        arn = f"arn:aws:sqs:{self.region_name}:{self.account_id}:{resource_id}"
        if service_may("events.amazonaws.com", "sqs:SendMessage", arn, source_arn=self.arn,
                       source_account=self.account_id, source=f"EventBridge rule {self.name}"):
            original(self, resource_id, event, group_id)

    return send_to_sqs_queue


# ---------------------------------------------------------------------- Lambda
LAMBDA_CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."
SQS_POLLING = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")


def _put_function(original: Any) -> Any:
    def put_function(self: Any, fn: Any) -> None:
        from . import resources

        # a malformed or missing role is moto's to refuse (awslambda/models.py put_function)
        if resources.policy_of(fn.role, "sts:AssumeRole") is not None and not service_may(
                "lambda.amazonaws.com", "sts:AssumeRole", fn.role, source_arn=fn.function_arn,
                source_account=fn.account_id,
                source=f"Lambda assuming the role of {fn.function_name}"):
            from moto.awslambda.exceptions import InvalidParameterValueException

            raise InvalidParameterValueException(LAMBDA_CANNOT_ASSUME)
        original(self, fn)

    return put_function


def _create_event_source_mapping(original: Any) -> Any:
    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        source = spec.get("EventSourceArn", "")
        if source.startswith("arn:aws:sqs:") and spec.get("FunctionName"):
            fn = self._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
            for operation in SQS_POLLING:
                if not role_may(fn.role, f"sqs:{operation}", source, region=self.region_name,
                                source=f"Lambda event source mapping for {fn.function_name}"):
                    from moto.awslambda.exceptions import InvalidParameterValueException

                    raise InvalidParameterValueException(
                        "The provided execution role does not have permissions to call "
                        f"{operation} on SQS")
        return original(self, spec)

    return create_event_source_mapping


def may_write_logs(spec: Any, stream: str) -> bool:
    """Lambda writes a function's logs with its role: without logs:CreateLogStream and
    logs:PutLogEvents (and logs:CreateLogGroup for a new group) they are lost, silently."""
    from moto.logs.models import logs_backends

    group = f"arn:aws:logs:{spec.region}:{spec.account_id}:log-group:{spec.log_group}"
    logs = logs_backends[spec.account_id][spec.region]
    wanted = []
    if spec.log_group not in logs.groups:
        wanted.append(("logs:CreateLogGroup", group + ":log-stream:"))
    if spec.log_group not in logs.groups or stream not in logs.groups[spec.log_group].streams:
        wanted.append(("logs:CreateLogStream", f"{group}:log-stream:{stream}"))
    wanted.append(("logs:PutLogEvents", f"{group}:log-stream:{stream}"))
    return all(role_may(spec.role, action, resource, region=spec.region,
                        source=f"Lambda log delivery for {spec.name}",
                        session_key=spec.credentials["AccessKeyId"])
               for action, resource in wanted)


# ---------------------------------------------------------------------- Step Functions
STATES_CANNOT_ASSUME = ("Neither the global service principal states.amazonaws.com, nor the "
                        "regional one is authorized to assume the provided role.")


def _trusted_by_states(role_arn: str | None, machine_arn: str) -> None:
    """CreateStateMachine and UpdateStateMachine refuse a role that Step Functions may not
    assume, with AccessDeniedException and this message (recorded AWS answer): neither
    ``states.amazonaws.com`` nor the regional ``states.<region>.amazonaws.com`` is trusted, for
    this state machine's ARN as ``aws:SourceArn`` (AWS's confused-deputy condition)."""
    from . import resources

    if not role_arn or resources.policy_of(role_arn, "sts:AssumeRole") is None:
        return  # a malformed or missing role: moto's to refuse
    region, account = machine_arn.split(":")[3:5]
    name = machine_arn.rsplit(":", 1)[-1]
    if not any(service_may(service, "sts:AssumeRole", role_arn, source_arn=machine_arn,
                           source_account=account,
                           source=f"Step Functions assuming the role of {name}")
               for service in ("states.amazonaws.com", f"states.{region}.amazonaws.com")):
        from moto.core.exceptions import AWSError

        raise AWSError(STATES_CANNOT_ASSUME, "AccessDeniedException")


def _create_state_machine(original: Any) -> Any:
    def create_state_machine(self: Any, name: str, definition: str, roleArn: str,  # noqa: N803
                             *args: Any, **kwargs: Any) -> Any:
        _trusted_by_states(roleArn, f"arn:aws:states:{self.region_name}:{self.account_id}:"
                                    f"stateMachine:{name}")
        return original(self, name, definition, roleArn, *args, **kwargs)

    return create_state_machine


def _update_state_machine(original: Any) -> Any:
    def update_state_machine(self: Any, arn: str, *args: Any, **kwargs: Any) -> Any:
        role = kwargs.get("role_arn", args[1] if len(args) > 1 else None)
        _trusted_by_states(role, arn)
        return original(self, arn, *args, **kwargs)

    return update_state_machine


# ---------------------------------------------------------------------- S3's three deliveries
def _as_given(account: str, target: str, region: str) -> str:
    return target


def _queue_arn(account: str, target: str, region: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{target}"


# each wraps a function of moto/s3/notifications.py (rows of sandbox/seams.py)
def s3_invokes_lambda(original: Any) -> Any:
    return _s3_delivery(original, "lambda:InvokeFunction", _as_given)


def s3_sends_to_sqs(original: Any) -> Any:
    return _s3_delivery(original, "sqs:SendMessage", _queue_arn)


def s3_publishes_to_sns(original: Any) -> Any:
    return _s3_delivery(original, "sns:Publish", _as_given)
