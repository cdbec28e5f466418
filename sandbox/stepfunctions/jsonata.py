"""JSONata for ``QueryLanguage: JSONata`` states (``Arguments``, ``Output``, ``Assign``,
``Condition``, ``{% %}`` fields) and variables, evaluated by ``jsonata-python``.

moto's evaluator is stubbed out (moto/stepfunctions/parser/asl/jsonata/jsonata.py: LocalStack runs
JSONata in a JVM, moto leaves ``_eval_jsonata`` unset), so every JSONata state fails there.
Step Functions adds six functions to JSONata: ``$partition``, ``$range``, ``$random``, ``$parse``
come from moto's declarations; ``$hash`` and ``$uuid``, which moto leaves unimplemented, are
supplied here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from typing import Any

# $hash(value, algorithm): the algorithms of States.Hash
HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
          "SHA-512": "sha512"}
NATIVE = ("$hash", "$uuid")


def _hash(value: Any, algorithm: str) -> str:
    if algorithm not in HASHES:
        raise ValueError(f"The hash algorithm must be one of {', '.join(HASHES)}")
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return hashlib.new(HASHES[algorithm], text.encode()).hexdigest()


def evaluate(expression: str) -> Any:
    """Evaluate a JSONata expression as moto composes it (variables declared inline)."""
    import jsonata
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        compiled = jsonata.Jsonata(expression)
        compiled.register_lambda("hash", _hash)
        compiled.register_lambda("uuid", lambda: str(uuid.uuid4()))
        result = compiled.evaluate(None)
    except Exception as error:  # jsonata raises JException, and Python errors from functions
        raise JSONataException(getattr(error, "error", None) or "UNKNOWN", str(error)) from None
    return _plain(result)


def failing_as_aws_does(original: Any) -> Any:
    """Wrap ``StringJSONata._eval_body``: an expression that throws fails the state with
    States.QueryEvaluationError, as AWS does (moto turns it into States.Runtime)."""

    @functools.wraps(original)
    def _eval_body(self: Any, env: Any) -> None:
        from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEvent,
            FailureEventException,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
            StatesErrorName,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
            StatesErrorNameType,
        )
        from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
        from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

        try:
            original(self, env)
        except JSONataException as error:
            name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
            cause = (f"The JSONata expression '{self.expression}' threw an error during "
                     f"evaluation. {error.error}: {error.details}")
            raise FailureEventException(failure_event=FailureEvent(
                env=env, error_name=name, event_type=HistoryEventType.EvaluationFailed,
                # moto declares EventDetails total; an event carries one kind of details
                event_details=EventDetails(evaluationFailedEventDetails=(  # type: ignore[typeddict-item]
                    EvaluationFailedEventDetails(error=name.error_name, cause=cause))))) from None

    return _eval_body


def _plain(value: Any) -> Any:
    """JSON data (jsonata-python returns its own list type, and functions as values)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return value


def encode_variable_declarations(bindings: dict[str, Any]) -> str:
    """``encode_jsonata_variable_declarations`` with strings escaped: moto writes a string
    value between quotes as it is, so a quote or a line break in it breaks the expression."""
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    return "".join(f"{name}:={to_json_str(value, separators=(',', ':'))};"
                   for name, value in bindings.items())
