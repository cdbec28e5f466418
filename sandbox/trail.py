"""The records of IAM's decisions, as the server keeps them (``sandbox.iam.trail``) and the
notebook reads them (``sb.iam.decisions()``, ``sb.iam.denials()``): like a CloudTrail trail.

This module is shared by both sides, so it imports nothing of either.

AWS records a refused call in CloudTrail with ``errorCode: AccessDenied`` and the message the
caller got; it never says which statement decided. The sandbox keeps the statement too, because
"which line of which policy?" is the question a learner is asking.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class PolicyName:
    name: str


@dataclass(frozen=True)
class StatementView:
    """A deciding statement as the notebook sees it: which policy, which statement, what it
    says."""

    policy: PolicyName
    index: int
    sid: str | None
    effect: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One decision: who asked to do what to which resource, and what decided it."""

    principal: str
    action: str
    resource: str
    allowed: bool
    message: str  # the error the caller got ("" when allowed)
    statement: Any  # policy.Statement that decided, or None (nothing allowed: implicit deny)
    source: str = "request"  # or what acted on the learner's behalf: "S3 event notification"
    operation: str = ""
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def deciding(self) -> str:
        """The deciding statement, named and shown, or why there was none."""
        if self.statement is None:
            return "no statement allows it (implicit deny)"
        sid = f" {self.statement.sid!r}" if self.statement.sid else ""
        return (f"statement {self.statement.index}{sid} of {self.statement.policy.name}: "
                f"{json.dumps(self.statement.body, sort_keys=True)}")

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON data, as the admin API carries it to the notebook."""
        statement = None
        if self.statement is not None:
            statement = {"policy": self.statement.policy.name, "index": self.statement.index,
                         "sid": self.statement.sid, "effect": self.statement.effect,
                         "body": dict(self.statement.body)}
        return {"principal": self.principal, "action": self.action, "resource": self.resource,
                "allowed": self.allowed, "message": self.message, "statement": statement,
                "source": self.source, "operation": self.operation,
                "time": self.time.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        statement = data.get("statement")
        return cls(principal=data["principal"], action=data["action"],
                   resource=data["resource"], allowed=data["allowed"],
                   message=data["message"],
                   statement=None if statement is None else StatementView(
                       policy=PolicyName(statement["policy"]), index=statement["index"],
                       sid=statement["sid"], effect=statement["effect"],
                       body=statement["body"]),
                   source=data["source"], operation=data["operation"],
                   time=datetime.fromisoformat(data["time"]))

    def event(self) -> dict[str, Any]:
        """The entry in CloudTrail's shape (eventSource, eventName, userIdentity, errorCode)."""
        service = self.action.split(":", 1)[0]
        record = {"eventTime": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "eventSource": f"{service}.amazonaws.com",
                  "eventName": self.operation or self.action.split(":", 1)[-1],
                  "userIdentity": {"arn": self.principal},
                  "resources": [{"ARN": self.resource}],
                  "sandbox": {"action": self.action, "deciding": self.deciding,
                              "source": self.source}}
        if not self.allowed:
            record.update(errorCode="AccessDenied", errorMessage=self.message)
        return record


class Denials:
    """The most recent denials, newest first: a table in JupyterLab, plain text elsewhere."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Entry:
        return self.entries[index]

    def __repr__(self) -> str:
        if not self.entries:
            return "No denials."
        blocks = []
        for entry in self.entries:
            blocks.append("\n".join([
                f"DENIED {entry.action} on {entry.resource}",
                f"  who:      {entry.principal}" + (
                    f" ({entry.source})" if entry.source != "request" else ""),
                f"  error:    {entry.message}",
                f"  decided:  {entry.deciding}"]))
        return "\n\n".join(blocks)

    def _repr_html_(self) -> str:
        if not self.entries:
            return "<p>No denials.</p>"
        cells = [(entry.time.strftime("%H:%M:%S"), entry.principal, entry.action,
                  entry.resource, entry.deciding) for entry in self.entries]
        rows = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(cell))}"
                                        "</td>" for cell in row) + "</tr>" for row in cells)
        head = "".join(f"<th style='text-align:left'>{name}</th>" for name in (
            "time", "principal", "action", "resource", "deciding statement"))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
