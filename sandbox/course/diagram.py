"""The visual workflow: a state machine drawn from its definition, an execution drawn on it, and
an execution's history as a table.

Each view is an object that JupyterLab shows as a Mermaid diagram (a ``mermaid`` code block in
Markdown, which JupyterLab renders natively) and a plain terminal, nbval or ``print`` shows as
readable text::

    from sandbox.course import diagram
    diagram.state_machine(machine_arn)        # the workflow: Choice branches, Parallel
                                              # branches, Map iterations, Catch edges
    diagram.execution(execution_arn)          # each state succeeded, failed, caught, retried,
                                              # running or not reached
    diagram.history(execution_arn)            # get_execution_history as a table
    diagram.watch(execution_arn)              # a live view (ipywidgets) while it runs
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

STYLES = {  # Mermaid classDef per execution status (the console's colours, roughly)
    "succeeded": "fill:#d4f4dd,stroke:#2e8540,color:#1b4d2a",
    "failed": "fill:#fde0dd,stroke:#c23934,color:#7a1f1b",
    "caught": "fill:#fff1d6,stroke:#d98e04,color:#6b4602",
    "running": "fill:#dbe9ff,stroke:#2f6fdb,color:#173a73",
    "notreached": "fill:#f4f4f4,stroke:#b0b0b0,color:#808080,stroke-dasharray:4 3",
}
MARKS = {"succeeded": "✓", "failed": "✗", "caught": "⚠", "running": "…", "notreached": "·"}
_COMPARISONS = {
    "Equals": "==", "GreaterThan": ">", "GreaterThanEquals": ">=", "LessThan": "<",
    "LessThanEquals": "<=",
}


# ---------------------------------------------------------------- the definition as a graph
@dataclass
class Node:
    name: str
    type: str
    id: str
    children: list[Scope] = field(default_factory=list)  # Parallel branches, a Map's processor


@dataclass
class Scope:
    label: str
    start: str
    nodes: list[Node] = field(default_factory=list)


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    kind: str = "next"  # next | choice | default | catch | start | end


class Graph:
    """A definition's states and transitions, with Mermaid-safe ids."""

    def __init__(self, definition: dict[str, Any]):
        self.definition = definition
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.root = self._scope(definition, "")

    def _scope(self, scope: dict[str, Any], label: str) -> Scope:
        result = Scope(label, scope.get("StartAt", ""))
        states = scope.get("States") or {}
        for name, state in states.items():
            node = Node(name, state.get("Type", "?"), f"s{len(self.nodes)}")
            self.nodes[name] = node
            result.nodes.append(node)
            if node.type == "Parallel":
                for index, branch in enumerate(state.get("Branches") or []):
                    node.children.append(self._scope(branch, f"Branch {index + 1}"))
            elif node.type == "Map":
                processor = state.get("ItemProcessor") or state.get("Iterator") or {}
                node.children.append(self._scope(processor, "Each item"))
        for name, state in states.items():
            self._transitions(name, state)
        return result

    def _transitions(self, name: str, state: dict[str, Any]) -> None:
        if isinstance(state.get("Next"), str):
            self.edges.append(Edge(name, state["Next"]))
        for rule in state.get("Choices") or []:
            if isinstance(rule, dict) and "Next" in rule:
                self.edges.append(Edge(name, rule["Next"], describe_rule(rule), "choice"))
        if state.get("Default"):
            self.edges.append(Edge(name, state["Default"], "Default", "default"))
        for catcher in state.get("Catch") or []:
            if isinstance(catcher, dict) and "Next" in catcher:
                self.edges.append(Edge(name, catcher["Next"],
                                       ", ".join(catcher.get("ErrorEquals", [])), "catch"))

    def terminal(self, name: str) -> bool:
        state = self._state(name)
        return state.get("End") is True or state.get("Type") in ("Succeed", "Fail")

    def _state(self, name: str, scope: dict[str, Any] | None = None) -> dict[str, Any]:
        scope = self.definition if scope is None else scope
        for state_name, state in (scope.get("States") or {}).items():
            if state_name == name:
                return cast("dict[str, Any]", state)
            inner = list(state.get("Branches") or [])
            inner += [s for s in (state.get("ItemProcessor"), state.get("Iterator")) if s]
            for child in inner:
                found = self._state(name, child)
                if found:
                    return found
        return {}


def describe_rule(rule: dict[str, Any]) -> str:
    """A Choice rule in a few words: ``$.n > 10``, ``$.kind == 'book'``, a JSONata condition."""
    if "Condition" in rule:
        return str(rule["Condition"]).removeprefix("{%").removesuffix("%}").strip()
    for combinator in ("And", "Or"):
        if combinator in rule:
            parts = [describe_rule(inner) for inner in rule[combinator]]
            return f" {combinator.lower()} ".join(f"({part})" for part in parts)
    if "Not" in rule:
        return f"not ({describe_rule(rule['Not'])})"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        for kind in ("String", "Numeric", "Boolean", "Timestamp"):
            if key.startswith(kind):
                operator = key[len(kind):].removesuffix("Path")
                shown = value if key.endswith("Path") else json.dumps(value)
                if operator in _COMPARISONS:
                    return f"{variable} {_COMPARISONS[operator]} {shown}".replace('"', "'")
                if operator == "Matches":
                    return f"{variable} matches {shown}".replace('"', "'")
        if key.startswith("Is"):
            return f"{variable} {key[2:].lower()} is {json.dumps(value)}"
        return f"{variable} {key} {json.dumps(value)}".replace('"', "'")
    return cast(str, variable)


# ---------------------------------------------------------------- what an execution did
@dataclass
class StateRun:
    entered: int = 0
    exited: int = 0
    attempts: int = 0
    failures: int = 0
    error: str = ""


def steps(events: list[dict[str, Any]]) -> list[str]:
    """The state each event belongs to ("" for the execution's own events).

    An event follows the one before it (``previousEventId``); a Parallel or Map state's own
    events (``ParallelStateSucceeded``, ``MapIterationStarted``...) belong to that state."""
    owner: dict[int, str] = {}
    containers: list[tuple[str, str]] = []  # (kind, name) of the Parallel and Map states open
    names = []
    for event in events:
        kind = event["type"]
        name = owner.get(event.get("previousEventId", 0), "")
        if "stateEnteredEventDetails" in event:
            name = event["stateEnteredEventDetails"]["name"]
            if kind in ("ParallelStateEntered", "MapStateEntered"):
                containers.append((kind[:3], name))
        elif "stateExitedEventDetails" in event:
            name = event["stateExitedEventDetails"]["name"]
            if (kind[:3], name) in containers:
                containers.remove((kind[:3], name))
        elif kind.startswith(("Parallel", "Map")):
            name = next((n for k, n in reversed(containers) if k == kind[:3]), name)
        elif kind.startswith("Execution"):
            name = ""
        owner[event["id"]] = name
        names.append(name)
    return names


def runs_from_history(events: list[dict[str, Any]]) -> dict[str, StateRun]:
    """Per state name: how often it was entered and left, attempted, failed."""
    runs: dict[str, StateRun] = {}
    for event, name in zip(events, steps(events), strict=True):
        kind = event["type"]
        if not name:
            continue
        run = runs.setdefault(name, StateRun())
        if "stateEnteredEventDetails" in event:
            run.entered += 1
        elif "stateExitedEventDetails" in event:
            run.exited += 1
        elif kind.endswith("Scheduled"):
            run.attempts += 1
        elif kind.endswith(("Failed", "TimedOut")) and not kind.startswith("MapIteration"):
            run.failures += 1
            details: dict[str, Any] = next(
                (v for k, v in event.items() if k.endswith("EventDetails")), {})
            run.error = details.get("error", "") or run.error
    return runs


def status_of(run: StateRun | None, finished: bool) -> str:
    if run is None or not run.entered:
        return "notreached"
    if run.exited >= run.entered:
        retried = max(run.attempts - 1, 0)
        return "caught" if run.failures > retried else "succeeded"
    return "failed" if finished else "running"


# ---------------------------------------------------------------- the views
def left_table(columns: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """An HTML table whose cells read from the left, like a log (JupyterLab right-aligns
    table cells)."""
    import html

    left = ' style="text-align: left; vertical-align: top"'
    head = "".join(f"<th{left}>{name}</th>" for name in columns)
    body = "".join("<tr>" + "".join(f"<td{left}>{html.escape(cell)}</td>" for cell in row)
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class MermaidView:
    """A drawing shown as Mermaid where the front end renders it (JupyterLab renders a
    ``mermaid`` code block in Markdown) and as text elsewhere; subclasses give both."""

    def mermaid(self) -> str:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.mermaid()}\n```"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/markdown": self._repr_markdown_(), "text/plain": self.text()}

    def __repr__(self) -> str:
        return self.text()


class Diagram(MermaidView):
    """A state machine (and maybe an execution on it) as Mermaid, and as text."""

    def __init__(self, definition: dict[str, Any], name: str = "",
                 runs: dict[str, StateRun] | None = None, status: str = ""):
        self.graph = Graph(definition)
        self.name = name
        self.runs = runs
        self.status = status  # the execution's status, when one is drawn

    @property
    def finished(self) -> bool:
        return self.status not in ("", "RUNNING")

    def _status(self, name: str) -> str:
        return status_of((self.runs or {}).get(name), self.finished)

    def _note(self, name: str) -> str:
        run = (self.runs or {}).get(name)
        notes = []
        # each entry makes one first attempt (a Map runs its states once per item): the
        # attempts beyond those are retries
        if run and run.entered > 1:
            notes.append(f"{run.entered} runs")
        if run and run.attempts > max(run.entered, 1):
            notes.append(f"retried {run.attempts - max(run.entered, 1)}×")
        if run and run.error and self._status(name) in ("failed", "caught"):
            notes.append(run.error)
        return ", ".join(notes)

    # ---------------------------------------------------------------- Mermaid
    def mermaid(self) -> str:
        # Left to right: a workflow is a chain of states, and drawn top-down it ran to two
        # screens in JupyterLab (which scales the drawing to the notebook's width).
        lines = ["flowchart LR", "    start((Start))", "    finish((End))"]
        lines += self._mermaid_scope(self.graph.root, "    ")
        graph = self.graph
        lines.append(f"    start --> {graph.nodes[graph.root.start].id}"
                     if graph.root.start in graph.nodes else "    start --> finish")
        for edge in graph.edges:
            if edge.source not in graph.nodes or edge.target not in graph.nodes:
                continue
            source, target = graph.nodes[edge.source].id, graph.nodes[edge.target].id
            label = f'|"{_escape(edge.label)}"|' if edge.label else ""
            arrow = "-.->" if edge.kind == "catch" else "-->"
            lines.append(f"    {source} {arrow}{label} {target}")
        for scope_nodes in [graph.root.nodes]:
            for node in scope_nodes:
                if graph.terminal(node.name):
                    lines.append(f"    {node.id} --> finish")
        if self.runs is not None:
            for status, style in STYLES.items():
                lines.append(f"    classDef {status} {style}")
            for node in graph.nodes.values():
                lines.append(f"    class {node.id} {self._status(node.name)}")
        return "\n".join(lines)

    def _mermaid_scope(self, scope: Scope, indent: str) -> list[str]:
        lines = []
        for node in scope.nodes:
            label = _escape(node.name)
            note = self._note(node.name) if self.runs is not None else ""
            if note:
                label += f"<br/><small>{_escape(note)}</small>"
            if node.children:
                kind = "Parallel" if node.type == "Parallel" else "Map"
                lines.append(f'{indent}subgraph {node.id}["{label} ({kind})"]')
                for index, child in enumerate(node.children):
                    lines.append(f'{indent}    subgraph {node.id}_{index}["{child.label}"]')
                    lines += self._mermaid_scope(child, indent + "        ")
                    lines.append(f"{indent}    end")
                # Unlinked boxes are placed in whatever order the layout settles on, which drew
                # Branch 2 before Branch 1: invisible links (~~~) keep the branches in order.
                for index in range(len(node.children) - 1):
                    lines.append(f"{indent}    {node.id}_{index} ~~~ {node.id}_{index + 1}")
                lines.append(f"{indent}end")
            elif node.type == "Choice":
                lines.append(f'{indent}{node.id}{{"{label}"}}')
            elif node.type in ("Succeed", "Fail"):
                lines.append(f'{indent}{node.id}(["{label}"])')
            else:
                lines.append(f'{indent}{node.id}("{label}")')
        return lines

    # ---------------------------------------------------------------- text
    def text(self) -> str:
        title = f"State machine {self.name}" if self.name else "State machine"
        if self.status:
            title += f" — execution {self.status}"
        lines = [f"{title} (starts at {self.graph.root.start})"]
        lines += self._text_scope(self.graph.root, "  ")
        return "\n".join(lines)

    def _text_scope(self, scope: Scope, indent: str) -> list[str]:
        lines = []
        for node in scope.nodes:
            mark = f"{MARKS[self._status(node.name)]} " if self.runs is not None else ""
            note = self._note(node.name) if self.runs is not None else ""
            line = f"{indent}{mark}{node.name} [{node.type}]"
            if self.runs is not None:
                line += f" {self._status(node.name).replace('notreached', 'not reached')}"
                line += f" ({note})" if note else ""
            lines.append(line)
            for edge in self.graph.edges:
                if edge.source != node.name:
                    continue
                label = {"next": "next", "default": "otherwise", "catch": "on error"}.get(
                    edge.kind, "if")
                condition = f" {edge.label}" if edge.kind in ("choice", "catch") else ""
                lines.append(f"{indent}    {label}{condition} -> {edge.target}")
            if self.graph.terminal(node.name) and node.type not in ("Succeed", "Fail"):
                lines.append(f"{indent}    end")
            for child in node.children:
                lines.append(f"{indent}    {child.label} (starts at {child.start}):")
                lines += self._text_scope(child, indent + "        ")
        return lines



class History:
    """An execution's events as a table: id, type, state, time since start, details."""

    COLUMNS = ("ID", "Type", "Step", "Elapsed", "Details")

    def __init__(self, events: list[dict[str, Any]]):
        self.events = events

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        start = self.events[0]["timestamp"] if self.events else None
        named = zip(self.events, steps(self.events), strict=True)
        return [(str(event["id"]), event["type"], name, _seconds(event["timestamp"], start),
                 _details(event)) for event, name in named]

    def text(self) -> str:
        rows = [self.COLUMNS, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        return "\n".join(
            "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row))
            .rstrip() for row in rows)

    def _repr_html_(self) -> str:
        return left_table(self.COLUMNS, self.rows())

    def __repr__(self) -> str:
        return self.text()


def _seconds(timestamp: Any, start: Any) -> str:
    if not isinstance(timestamp, datetime.datetime) or start is None:
        return ""
    total = (timestamp - start).total_seconds()
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{seconds:06.3f}" if hours else (
        f"{int(minutes)}:{seconds:06.3f}")


DETAILS_WIDTH = 160  # characters of an event's details the table shows


def _details(event: dict[str, Any]) -> str:
    details: dict[str, Any] = next(
        (value for key, value in event.items() if key.endswith("EventDetails")), {})
    if details.get("error"):
        return _cut(f"{details['error']}: {details.get('cause', '')}")
    if details.get("resource"):
        return str(details["resource"])
    for key in ("output", "input"):
        if key in details:
            return _cut(f"{key} {details[key]}")
    return ""


def _cut(text: str, width: int = DETAILS_WIDTH) -> str:
    """At most width characters; a longer text ends with an ellipsis, so nothing looks whole
    that is not (get_execution_history has it all)."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _escape(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ")


# ---------------------------------------------------------------- building views from the API
def _client() -> Any:
    import boto3

    return boto3.client("stepfunctions")


def state_machine(machine: str | dict[str, Any]) -> Diagram:
    """A state machine drawn from its definition: an ARN, a definition, or its JSON text."""
    if isinstance(machine, dict):
        return Diagram(machine)
    if machine.lstrip().startswith("{"):
        return Diagram(json.loads(machine))
    described = _client().describe_state_machine(stateMachineArn=machine)
    return Diagram(json.loads(described["definition"]), described["name"])


def execution(execution_arn: str) -> Diagram:
    """An execution drawn on its state machine."""
    sfn = _client()
    machine = sfn.describe_state_machine_for_execution(executionArn=execution_arn)
    status = sfn.describe_execution(executionArn=execution_arn)["status"]
    events = _events(execution_arn)
    return Diagram(json.loads(machine["definition"]), machine["name"], runs_from_history(events),
                   status)


def history(execution_arn: str) -> History:
    """The execution's history (GetExecutionHistory) as a table."""
    return History(_events(execution_arn))


def _events(execution_arn: str) -> list[dict[str, Any]]:
    pages = _client().get_paginator("get_execution_history")
    return [event for page in pages.paginate(executionArn=execution_arn)
            for event in page["events"]]


def watch(execution_arn: str, interval: float = 0.2) -> Watch:
    """A live view: the execution diagram, redrawn as the execution moves, until it ends."""
    return Watch(execution_arn, interval)


class Watch:
    """An ipywidgets view of an execution, redrawn from a background thread while it runs."""

    def __init__(self, execution_arn: str, interval: float = 0.2):
        import ipywidgets

        self.execution_arn = execution_arn
        self.interval = interval
        self.view = ipywidgets.Output()
        self.latest: Diagram | None = None
        self._drawn = -1
        self._redraw()
        self._thread = threading.Thread(target=self._follow, name="sfn-watch", daemon=True)
        self._thread.start()

    def _redraw(self) -> bool:
        from IPython.display import display

        drawn = execution(self.execution_arn)
        moves = sum(run.entered + run.exited for run in (drawn.runs or {}).values())
        if moves != self._drawn or drawn.finished:
            self._drawn, self.latest = moves, drawn
            self.view.clear_output(wait=True)
            with self.view:
                display(drawn)
        return drawn.finished

    def _follow(self) -> None:
        pause = threading.Event()
        try:
            while not self._redraw():
                pause.wait(self.interval)
        except Exception:  # the execution is gone (the sandbox was reset): stop following
            return

    def wait(self, timeout: float | None = None) -> Diagram | None:
        """Wait until the execution has ended; its final drawing."""
        self._thread.join(timeout)
        return self.latest

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view)

    def __repr__(self) -> str:
        return self.latest.text() if self.latest else f"<watching {self.execution_arn}>"
