"""Step Functions errors moto does not raise itself, with AWS's codes."""

from __future__ import annotations

from moto.core.exceptions import AWSError


class InvalidDefinition(AWSError):
    TYPE = "InvalidDefinition"
    STATUS = 400


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400

    def __init__(self) -> None:
        super().__init__("This operation is not supported by this type of state machine")
