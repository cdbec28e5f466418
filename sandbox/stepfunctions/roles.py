"""Step Functions and the state machine's role, checked as AWS checks it.

CreateStateMachine and UpdateStateMachine refuse a role that Step Functions may not assume
(``moto/stepfunctions/models.py`` ``StepFunctionBackend.create_state_machine`` and
``update_state_machine`` check nothing). IAM decides (``sandbox.iam.service_may``).
"""

from __future__ import annotations

from typing import Any

from .. import iam

STATES_CANNOT_ASSUME = ("Neither the global service principal states.amazonaws.com, nor the "
                        "regional one is authorized to assume the provided role.")


def _trusted_by_states(role_arn: str | None, machine_arn: str) -> None:
    """CreateStateMachine and UpdateStateMachine refuse a role that Step Functions may not
    assume, with AccessDeniedException and this message (recorded AWS answer): neither
    ``states.amazonaws.com`` nor the regional ``states.<region>.amazonaws.com`` is trusted, for
    this state machine's ARN as ``aws:SourceArn`` (AWS's confused-deputy condition)."""
    if not role_arn or not iam.role_exists(role_arn):
        return  # a malformed or missing role: moto's to refuse
    region, account = machine_arn.split(":")[3:5]
    name = machine_arn.rsplit(":", 1)[-1]
    if not any(iam.service_may(service, "sts:AssumeRole", role_arn, source_arn=machine_arn,
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
