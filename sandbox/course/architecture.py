"""Seeing an architecture: the live sandbox drawn as a service map, and one event's path on it.

``sandbox.architecture()`` reads the sandbox's resources back through the AWS APIs (boto3, as a
learner could) and draws who triggers whom: S3 notifications, SNS subscriptions, EventBridge
rules and Scheduler schedules and their targets, event source mappings, API Gateway
integrations, function URLs, destinations and dead-letter queues, queues' redrive policies,
tables' streams, the functions a state machine calls, and the resources a function's role
names. ``sandbox.trace(event_id)`` reads what the sandbox recorded of one event's hops
(``sb.admin.trace``, see ``sandbox/server/deliveries.py``) as a table, and ``.diagram()`` draws
the edges it took on the map, in the spirit of an X-Ray service map::

    import sandbox
    sandbox.architecture()                     # everything in the sandbox
    sandbox.architecture(around="photos")      # only what is connected to "photos"
    sandbox.trace(message_id)                  # one event's hops, as a table
    sandbox.trace(message_id).diagram()        # ... drawn on the map

Like ``sandbox.course.diagram``, each view is Mermaid in JupyterLab (a ``mermaid`` code block
in Markdown) and readable text in a terminal, nbval or ``print``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .diagram import MermaidView, left_table

# Mermaid node shapes per kind of resource, and the word shown before its name
SHAPES: dict[str, tuple[str, str, str]] = {
    "function": ("(", ")", "λ"),
    "url": ("([", "])", "URL"),
    "api": ("([", "])", "API"),
    "bucket": ("[(", ")]", "S3"),
    "table": ("[(", ")]", "DynamoDB"),
    "stream": ("[/", "/]", "stream"),
    "kinesis": ("[/", "/]", "Kinesis"),
    "queue": ("[[", "]]", "SQS"),
    "topic": ("{{", "}}", "SNS"),
    "bus": ("[\\", "\\]", "bus"),
    "rule": (">", "]", "rule"),
    "schedule": (">", "]", "schedule"),
    "statemachine": ("[[", "]]", "Step Functions"),
    "endpoint": ("(", ")", ""),
    "other": ("(", ")", ""),
}
LABEL_WIDTH = 60  # characters of an edge label (a filter policy can be long); "…" when cut
OUTCOME_STYLES = {  # an edge taken by a traced event, coloured by how its hop ended
    "delivered": "stroke:#2e8540,stroke-width:3px",
    "filtered": "stroke:#808080,stroke-width:2px,stroke-dasharray:4 3",
    "failed": "stroke:#c23934,stroke-width:3px",
    "retrying": "stroke:#d98e04,stroke-width:3px",
    "dead-lettered": "stroke:#c23934,stroke-width:3px",
    "dropped": "stroke:#c23934,stroke-width:3px,stroke-dasharray:4 3",
    "denied": "stroke:#c23934,stroke-width:3px,stroke-dasharray:4 3",
}
MARKS = {"delivered": "✓", "filtered": "·", "failed": "✗", "retrying": "↻",
         "dead-lettered": "☠", "dropped": "✗", "denied": "⛔"}
_WORST = ("dropped", "denied", "dead-lettered", "failed", "retrying", "filtered", "delivered")
LATEST = "(latest)"  # the event trace() follows when it is given none
TAKEN = "fill:#d4f4dd,stroke:#2e8540,color:#1b4d2a"  # a node the traced event reached


# ---------------------------------------------------------------- the graph
@dataclass
class Node:
    arn: str
    kind: str
    name: str
    note: str = ""  # a short second line: a schedule, a stream view type
    id: str = ""

    @property
    def label(self) -> str:
        word = SHAPES.get(self.kind, SHAPES["other"])[2]
        return f"{word} {self.name}".strip()


@dataclass
class Edge:
    source: str  # ARNs
    target: str
    label: str = ""
    kind: str = "trigger"  # trigger | poll | redrive | failure | success | dlq | uses | trace

    @property
    def dashed(self) -> bool:
        return self.kind in ("redrive", "failure", "dlq", "uses")


def kind_of(arn: str) -> str:
    """The kind of resource an ARN names (``arn:aws:sqs:...`` is a queue)."""
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return "endpoint" if "://" in arn or "@" in arn else "other"
    service, resource = parts[2], parts[5]
    if service == "lambda":
        return "function"
    if service == "dynamodb":
        return "stream" if "/stream/" in resource else "table"
    if service == "events":
        return "rule" if resource.startswith("rule/") else "bus"
    if service == "scheduler":
        return "schedule"
    if service == "states":
        return "statemachine"
    if service == "execute-api":
        return "api"
    return {"s3": "bucket", "sqs": "queue", "sns": "topic", "kinesis": "kinesis"}.get(
        service, "other")


def name_of(arn: str) -> str:
    """A resource's short name from its ARN (a function, a queue, a rule, a table)."""
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return arn
    service, resource = parts[2], ":".join(parts[5:])
    if service == "lambda":
        return resource.split(":")[1] if resource.startswith("function:") else resource
    if service == "dynamodb" and "/stream/" in resource:
        return resource.split("/")[1]
    if service in ("states",):
        return resource.split(":")[-1]
    return resource.split("/")[-1].split(":")[-1] or resource


def base_arn(arn: str) -> str:
    """A function's ARN without its version or alias (a hop may name ``...:function:f:$LATEST``);
    other ARNs unchanged."""
    parts = arn.split(":")
    if len(parts) > 7 and parts[2] == "lambda" and parts[5] == "function":
        return ":".join(parts[:7])
    return arn


class Architecture(MermaidView):
    """Resources (nodes) and who hands events to whom (edges), drawn as a Mermaid flowchart;
    built by :func:`architecture`, or from nodes and edges for a test."""

    def __init__(self, nodes: Iterable[Node] = (), edges: Iterable[Edge] = ()):
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        for node in nodes:
            self.add(node.arn, node.kind, node.name, node.note)
        for edge in edges:
            self.connect(edge.source, edge.target, edge.label, edge.kind)
        self.hops: list[dict[str, Any]] = []  # a trace drawn on it (see with_trace)

    # ---------------------------------------------------------------- building
    def add(self, arn: str, kind: str = "", name: str = "", note: str = "") -> Node:
        arn = base_arn(arn)
        node = self.nodes.get(arn)
        if node is None:
            node = Node(arn, kind or kind_of(arn), name or name_of(arn), note,
                        f"n{len(self.nodes)}")
            self.nodes[arn] = node
        elif note and not node.note:
            node.note = note
        return node

    def connect(self, source: str, target: str, label: str = "", kind: str = "trigger") -> Edge:
        source, target = base_arn(source), base_arn(target)
        self.add(source)
        self.add(target)
        for edge in self.edges:
            if (edge.source, edge.target, edge.kind) == (source, target, kind):
                if label and label not in edge.label.split(", "):
                    edge.label = f"{edge.label}, {label}" if edge.label else label
                return edge
        edge = Edge(source, target, label, kind)
        self.edges.append(edge)
        return edge

    def named(self, name: str) -> Node:
        """The node whose name (or ARN) is ``name``; KeyError naming the ones there are."""
        for node in self.nodes.values():
            if name in (node.name, node.arn):
                return node
        raise KeyError(f"no resource named {name!r} in the architecture (it has "
                       f"{', '.join(sorted(n.name for n in self.nodes.values()))})")

    def edge(self, source: str, target: str) -> Edge:
        """The edge from the resource named ``source`` to the one named ``target``."""
        first, second = self.named(source).arn, self.named(target).arn
        for edge in self.edges:
            if (edge.source, edge.target) == (first, second):
                return edge
        raise KeyError(f"no edge from {source!r} to {target!r}")

    def around(self, names: str | Iterable[str]) -> Architecture:
        """Only the resources connected (in either direction, through any number of edges) to
        one whose name or ARN is one of ``names``. A resource a function uses (by its
        role) is kept, but the other functions that use it are not followed from there, or one
        shared table would pull the whole account into the picture; they are for a table named
        in ``names``."""
        wanted = {names} if isinstance(names, str) else set(names)
        seeds = {arn for arn, node in self.nodes.items() if {node.name, arn} & wanted}
        neighbours: dict[str, set[str]] = {arn: set() for arn in self.nodes}
        users: dict[str, set[str]] = {arn: set() for arn in self.nodes}
        for edge in self.edges:
            neighbours[edge.source].add(edge.target)
            (users if edge.kind == "uses" else neighbours)[edge.target].add(edge.source)
        keep, todo = set(seeds), list(seeds)
        while todo:
            arn = todo.pop()
            for other in (neighbours[arn] | (users[arn] if arn in seeds else set())) - keep:
                keep.add(other)
                todo.append(other)
        result = Architecture(
            [node for arn, node in self.nodes.items() if arn in keep],
            [edge for edge in self.edges if edge.source in keep and edge.target in keep])
        result.hops = [hop for hop in self.hops
                       if base_arn(hop["source"]) in keep or base_arn(hop["target"]) in keep]
        return result

    def with_trace(self, hops: Iterable[dict[str, Any]]) -> Architecture:
        """A copy with ``hops`` (from ``sb.admin.trace``) drawn on it: each edge an event took
        coloured by how its last hop on that edge ended; a hop between resources the map has
        no edge for (a destination, say) is added as an edge of its own."""
        result = Architecture(self.nodes.values(), self.edges)
        result.hops = list(hops)
        for hop in result.hops:
            # a hop from Lambda's own asynchronous queue names no source: nothing to draw
            if hop["source"] and hop["target"] and result._edge_for(hop) is None:
                result.connect(hop["source"], hop["target"], hop.get("kind", ""), "trace")
        return result

    def _edge_for(self, hop: dict[str, Any]) -> Edge | None:
        source, target = base_arn(hop["source"]), base_arn(hop["target"])
        return next((edge for edge in self.edges if (edge.source, edge.target) ==
                     (source, target)), None)

    def taken(self) -> dict[int, str]:
        """Edges the drawn trace took (index in ``edges``): the worst outcome seen on each."""
        found: dict[int, str] = {}
        for hop in self.hops:
            edge = self._edge_for(hop)
            if edge is None:
                continue
            index = self.edges.index(edge)
            outcomes = [found[index], hop["outcome"]] if index in found else [hop["outcome"]]
            found[index] = min(outcomes, key=lambda o: _WORST.index(o) if o in _WORST else 99)
        return found

    # ---------------------------------------------------------------- drawing
    def mermaid(self) -> str:
        lines = ["flowchart LR"]
        for node in self.nodes.values():
            opening, closing, _ = SHAPES.get(node.kind, SHAPES["other"])
            text = _escape(node.label)
            if node.note:
                text += f"<br/><small>{_escape(node.note)}</small>"
            lines.append(f'    {node.id}{opening}"{text}"{closing}')
        for edge in self.edges:
            arrow = "-.->" if edge.dashed else "-->"
            label = f'|"{_escape(_cut(edge.label))}"|' if edge.label else ""
            lines.append(f"    {self.nodes[edge.source].id} {arrow}{label} "
                         f"{self.nodes[edge.target].id}")
        taken = self.taken()
        for index, outcome in sorted(taken.items()):
            lines.append(f"    linkStyle {index} {OUTCOME_STYLES.get(outcome, '')}")
        reached = {base_arn(hop["target"]) for hop in self.hops
                   if hop["outcome"] == "delivered"}
        reached |= {base_arn(hop["source"]) for hop in self.hops}
        if reached:
            lines.append(f"    classDef taken {TAKEN}")
            lines += [f"    class {self.nodes[arn].id} taken" for arn in self.nodes
                      if arn in reached]
        return "\n".join(lines)

    def text(self) -> str:
        if not self.nodes:
            return "Architecture: no resources yet"
        taken = self.taken()
        lines = [f"Architecture: {len(self.nodes)} resources, {len(self.edges)} connections"]
        outgoing: dict[str, list[int]] = {}
        for index, edge in enumerate(self.edges):
            outgoing.setdefault(edge.source, []).append(index)
        for arn, node in self.nodes.items():
            note = f" ({node.note})" if node.note else ""
            lines.append(f"  {node.label}{note}")
            for index in outgoing.get(arn, []):
                edge = self.edges[index]
                mark = f"  {MARKS.get(taken[index], '?')} {taken[index]}" if index in taken else ""
                arrow = "..>" if edge.dashed else "-->"
                label = f" [{_cut(edge.label)}]" if edge.label else ""
                lines.append(f"      {arrow} {self.nodes[edge.target].label}{label}{mark}")
        return "\n".join(lines)



def _escape(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ").replace("|", "#124;")


def _cut(text: str, width: int = LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


# ---------------------------------------------------------------- a trace
class Trace:
    """One event's hops between services (``sb.admin.trace``) as a table, in order: when
    (real time after the first hop), from, to, the path, the outcome and what the sandbox said
    about it.

    Times are real: a wait on the sandbox's clock (a visibility timeout, a retry's backoff)
    takes 1/10,000 of its simulated length, and the processing around it takes what it takes,
    so scaling real times up would make milliseconds of work look like minutes; the detail
    column says which waits a hop was given."""

    COLUMNS = ("After", "From", "To", "Via", "Outcome", "Detail")

    def __init__(self, event_id: str, hops: Iterable[dict[str, Any]]):
        self.event_id = event_id
        self.hops = sorted(hops, key=lambda hop: hop.get("seq", 0))

    @property
    def outcomes(self) -> list[tuple[str, str, str]]:
        """(from, to, outcome) per hop, by name: what a test or a check asserts."""
        return [(name_of(hop["source"]), name_of(hop["target"]), hop["outcome"])
                for hop in self.hops]

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        start = self.hops[0]["at"] if self.hops else 0.0
        return [(_elapsed(hop["at"] - start), _shown(hop["source"], hop.get("kind", "")),
                 _shown(hop["target"], ""),
                 hop.get("kind", ""), f"{MARKS.get(hop['outcome'], '?')} {hop['outcome']}",
                 _cut(hop.get("detail", ""), 80)) for hop in self.hops]

    def diagram(self, architecture_: Architecture | None = None) -> Architecture:
        """The hops drawn on the architecture (the resources they passed, and what is
        connected to those) — the edges taken coloured by outcome."""
        hops = self.hops
        if architecture_ is None:
            touched = {base_arn(hop[end]) for hop in hops for end in ("source", "target")}
            architecture_ = architecture(around=touched) if touched else Architecture()
        return architecture_.with_trace(hops)

    def text(self) -> str:
        if not self.hops:
            which = "yet" if self.event_id == LATEST else f"for {self.event_id!r}"
            return (f"No hops recorded {which}: the sandbox has not handed it from "
                    "one service to another (yet?). Did you run sb.settle() after producing it, "
                    "and is it the id the producer's call returned (a MessageId, an EventId)?")
        rows = [self.COLUMNS, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        return "\n".join("  ".join(cell.ljust(widths[i]) if i < 5 else cell
                                   for i, cell in enumerate(row)).rstrip() for row in rows)

    def _repr_html_(self) -> str:
        import html

        if not self.hops:
            return f"<pre>{html.escape(self.text())}</pre>"
        return left_table(self.COLUMNS, self.rows())

    def __repr__(self) -> str:
        return self.text()


def _elapsed(seconds: float) -> str:
    """+12 ms under a second, +1.234 s under a minute, +2:10.000 beyond."""
    if seconds < 1:
        return f"+{seconds * 1000:.0f} ms"
    seconds = round(seconds, 3)
    if seconds < 60:
        return f"+{seconds:.3f} s"
    minutes, rest = divmod(seconds, 60)
    return f"+{int(minutes)}:{rest:06.3f}"


def _shown(arn: str, kind: str) -> str:
    """A hop's end for the table: its kind's word and its name."""
    if not arn:  # Lambda's asynchronous queue hands events over without an ARN of its own
        return "Lambda's async queue" if kind == "async" else "?"
    return f"{SHAPES.get(kind_of(arn), SHAPES['other'])[2]} {name_of(arn)}".strip()


# ---------------------------------------------------------------- reading the sandbox
def architecture(around: str | Iterable[str] | None = None) -> Architecture:
    """The live sandbox's resources and their connections, read through the AWS APIs; with
    ``around``, only what is connected to the resources of those names (or ARNs)."""
    import boto3

    drawn = Architecture()
    loaded = _loaded_services()
    for reader in READERS:
        needs = LAZY_SERVICES.get(reader.__name__)
        if loaded is not None and needs is not None and needs not in loaded:
            continue  # never loaded by the server: it holds nothing, and loading it is slow
        try:
            reader(drawn, boto3)
        except Exception as error:  # a service the sandbox lacks: draw the rest
            if not _unavailable(error):
                raise
    drawn = _order(drawn)
    return drawn.around(around) if around is not None else drawn


# readers of services that moto loads slowly on first use (API Gateway pulls in an OpenAPI
# validator, Step Functions an ASL parser), and the moto service each needs
LAZY_SERVICES = {"_rest_apis": "apigateway", "_http_apis": "apigatewayv2",
                 "_state_machines": "stepfunctions", "_schedules": "scheduler",
                 "_kinesis": "kinesis"}


def _loaded_services() -> set[str] | None:
    """The services the sandbox's server has loaded; None when it cannot say (then every
    service is read)."""
    from ..client import current

    running = current()
    if running is None:
        return None
    try:
        return set(running.admin.call("services.loaded"))
    except Exception:  # an older server without the operation
        return None


def _unavailable(error: Exception) -> bool:
    """A service's API is not served (an unknown service, an unimplemented operation)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in ("NotImplemented", "InternalFailure", "UnknownOperationException",
                        "InvalidAction") or status in (404, 500, 501)
    return isinstance(error, (BotoCoreError, NotImplementedError))


def _order(drawn: Architecture) -> Architecture:
    """Nodes in the order of the flow: from each resource nothing points at, along its edges
    (breadth first), so the text reads as the diagram does."""
    outgoing: dict[str, list[str]] = {arn: [] for arn in drawn.nodes}
    incoming = set()
    for edge in drawn.edges:
        outgoing[edge.source].append(edge.target)
        incoming.add(edge.target)
    ordered: list[str] = []
    for root in [arn for arn in drawn.nodes if arn not in incoming] + list(drawn.nodes):
        queue = [root]
        while queue:
            arn = queue.pop(0)
            if arn not in ordered:
                ordered.append(arn)
                queue += outgoing[arn]
    return Architecture([drawn.nodes[arn] for arn in ordered], drawn.edges)


def _functions(drawn: Architecture, boto3: Any) -> None:
    client = boto3.client("lambda")
    functions = [f for page in client.get_paginator("list_functions").paginate()
                 for f in page["Functions"]]
    iam = boto3.client("iam")
    for function in functions:
        drawn.add(function["FunctionArn"], "function", function["FunctionName"])
    for function in functions:
        arn = function["FunctionArn"]
        dead_letter = (function.get("DeadLetterConfig") or {}).get("TargetArn")
        if dead_letter:
            drawn.connect(arn, dead_letter, "DLQ", "dlq")
        _guarded(_destinations, drawn, client, arn)
        _guarded(_url, drawn, client, arn)
        _guarded(_role_uses, drawn, iam, function)
    for page in client.get_paginator("list_event_source_mappings").paginate():
        for mapping in page["EventSourceMappings"]:
            _mapping(drawn, mapping)


def _guarded(step: Callable[..., None], *arguments: Any) -> None:
    """One optional look-up (a URL, a destination): its absence is not an error."""
    from botocore.exceptions import ClientError

    try:
        step(*arguments)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if not (code.endswith("NotFoundException") or code.startswith("NoSuch")
                or _unavailable(error)):
            raise


def _destinations(drawn: Architecture, client: Any, arn: str) -> None:
    config = client.get_function_event_invoke_config(FunctionName=arn)
    for outcome, kind in (("OnFailure", "failure"), ("OnSuccess", "success")):
        target = ((config.get("DestinationConfig") or {}).get(outcome) or {}).get("Destination")
        if target:
            drawn.connect(arn, target, f"on {kind}", kind)


def _url(drawn: Architecture, client: Any, arn: str) -> None:
    config = client.get_function_url_config(FunctionName=arn)
    url = f"url:{arn}"
    drawn.add(url, "url", "function URL", config.get("AuthType", ""))
    drawn.connect(url, arn, "HTTPS")


_USES = re.compile(r"^(dynamodb|s3|sqs|sns|events|states|kinesis|lambda):")
# what an event source mapping needs on its queue or stream: drawn as the mapping's edge already
_POLLING = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility", "dynamodb:DescribeStream", "dynamodb:GetRecords",
            "dynamodb:GetShardIterator", "dynamodb:ListStreams", "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator",
            "kinesis:ListShards", "kinesis:ListStreams", "kinesis:SubscribeToShard"}


def _role_uses(drawn: Architecture, iam: Any, function: dict[str, Any]) -> None:
    """The resources the function's role names by ARN, with the actions it may call on them
    (what the function uses, as far as its permissions tell: AWS's own diagrams need X-Ray)."""
    role = function.get("Role", "").rsplit("/", 1)[-1]
    if not role:
        return
    documents = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        if attached["PolicyArn"].startswith("arn:aws:iam::aws:"):
            continue  # AWS managed policies name no resource of the learner's
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        documents.append(iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"],
        )["PolicyVersion"]["Document"])
    for document in documents:
        if isinstance(document, str):
            document = json.loads(document)
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow":
                continue
            actions = _listed(statement.get("Action"))
            for resource in _listed(statement.get("Resource")):
                resource = resource.split("/index/")[0]
                if "*" in resource or not resource.startswith("arn:"):
                    continue
                service = resource.split(":")[2]
                if service not in ("dynamodb", "s3", "sqs", "sns", "events", "states",
                                   "kinesis", "lambda"):
                    continue
                if service == "s3":
                    resource = "arn:aws:s3:::" + resource.split(":::")[-1].split("/")[0]
                verbs = [a.split(":", 1)[1] for a in actions
                         if _USES.match(a) and a.startswith(service + ":") and a not in _POLLING]
                # only resources that exist (read before functions: see READERS)
                if verbs and base_arn(resource) != function["FunctionArn"] and \
                        base_arn(resource) in drawn.nodes:
                    drawn.connect(function["FunctionArn"], resource, ", ".join(verbs), "uses")


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _mapping(drawn: Architecture, mapping: dict[str, Any]) -> None:
    words = [f"batch {mapping.get('BatchSize', '?')}"]
    if "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []):
        words.append("partial failures")
    if (mapping.get("FilterCriteria") or {}).get("Filters"):
        words.append("filtered")
    if mapping.get("State") in ("Disabled", "Disabling"):
        words.append("disabled")
    source = mapping["EventSourceArn"]
    drawn.connect(source, mapping["FunctionArn"], ", ".join(words), "poll")
    failure = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination")
    if failure:
        drawn.connect(source, failure, "on failure", "failure")


def _buckets(drawn: Architecture, boto3: Any) -> None:
    s3 = boto3.client("s3")
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        arn = f"arn:aws:s3:::{name}"
        drawn.add(arn, "bucket", name)
        config = s3.get_bucket_notification_configuration(Bucket=name)
        for key, target_key in (("LambdaFunctionConfigurations", "LambdaFunctionArn"),
                                ("QueueConfigurations", "QueueArn"),
                                ("TopicConfigurations", "TopicArn")):
            for item in config.get(key, []):
                drawn.connect(arn, item[target_key], _s3_events(item))
        if "EventBridgeConfiguration" in config:
            region, account = _region_account(drawn, boto3)
            drawn.connect(arn, f"arn:aws:events:{region}:{account}:event-bus/default",
                          "all events")


def _s3_events(item: dict[str, Any]) -> str:
    events = ", ".join(e.removeprefix("s3:") for e in item.get("Events", []))
    rules = {rule["Name"].lower(): rule["Value"] for rule in
             item.get("Filter", {}).get("Key", {}).get("FilterRules", [])}
    if rules:
        events += f" {rules.get('prefix', '')}*{rules.get('suffix', '')}"
    return events


def _region_account(drawn: Architecture, boto3: Any) -> tuple[str, str]:
    session = boto3.session.Session()
    account = boto3.client("sts").get_caller_identity()["Account"]
    return session.region_name or "us-east-1", str(account)


def _topics(drawn: Architecture, boto3: Any) -> None:
    sns = boto3.client("sns")
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            drawn.add(topic["TopicArn"], "topic")
    for page in sns.get_paginator("list_subscriptions").paginate():
        for subscription in page["Subscriptions"]:
            arn = subscription["SubscriptionArn"]
            endpoint = subscription["Endpoint"]
            protocol = subscription["Protocol"]
            # a queue's or a function's subscription says so by its target's shape already
            words = [] if protocol in ("sqs", "lambda") else [protocol]
            if arn.startswith("arn:"):
                attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
                if attributes.get("FilterPolicy"):
                    words.append("filter " + _compact(attributes["FilterPolicy"]))
                if attributes.get("RawMessageDelivery") == "true":
                    words.append("raw")
                redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
                if redrive.get("deadLetterTargetArn"):
                    drawn.connect(endpoint if endpoint.startswith("arn:") else
                                  subscription["TopicArn"], redrive["deadLetterTargetArn"],
                                  "subscription DLQ", "dlq")
            else:
                words.append("pending confirmation")
            if not endpoint.startswith("arn:"):
                drawn.add(endpoint, "endpoint", endpoint)
            drawn.connect(subscription["TopicArn"], endpoint, ", ".join(words))


def _compact(policy: str) -> str:
    """A filter policy or an event pattern in few characters: ``source=shop,
    detail.total>100, kind=book|ebook``."""
    try:
        value = json.loads(policy)
    except ValueError:
        return policy
    return ", ".join(_conditions(value, "")) if isinstance(value, dict) else json.dumps(value)


def _conditions(pattern: dict[str, Any], prefix: str) -> list[str]:
    parts: list[str] = []
    for key, condition in pattern.items():
        if key == "$or" and isinstance(condition, list):
            parts.append(" or ".join("(" + ", ".join(_conditions(c, prefix)) + ")"
                                     for c in condition if isinstance(c, dict)))
        elif isinstance(condition, dict):
            parts += _conditions(condition, f"{prefix}{key}.")
        elif isinstance(condition, list):
            parts.append(prefix + key + _matchers(condition))
        else:
            parts.append(f"{prefix}{key}={json.dumps(condition)}")
    return parts


def _matchers(values: list[Any]) -> str:
    """One field's list of values and operators: ``=a|b``, ``>100``, ``=img/*``."""
    shown: list[str] = []
    for value in values:
        if not isinstance(value, dict) or len(value) != 1:
            shown.append(("=" if not shown else "") + (value if isinstance(value, str)
                                                       else json.dumps(value)))
            continue
        (operator, argument), = value.items()
        if operator == "numeric" and isinstance(argument, list):
            shown.append("".join(str(a) for a in argument))
        elif operator == "prefix":
            shown.append(f"={argument}*")
        elif operator == "suffix":
            shown.append(f"=*{argument}")
        elif operator == "anything-but":
            shown.append(f"≠{json.dumps(argument)}")
        elif operator == "exists":
            shown.append(" exists" if argument else " missing")
        else:
            shown.append(f" {operator} {json.dumps(argument)}")
    return "|".join(shown)


def _queues(drawn: Architecture, boto3: Any) -> None:
    sqs = boto3.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy", "VisibilityTimeout"],
        )["Attributes"]
        arn = attributes["QueueArn"]
        drawn.add(arn, "queue")
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        if redrive.get("deadLetterTargetArn"):
            drawn.connect(arn, redrive["deadLetterTargetArn"],
                          f"after {redrive.get('maxReceiveCount', '?')} receives", "redrive")


def _rules(drawn: Architecture, boto3: Any) -> None:
    events = boto3.client("events")
    for bus in events.list_event_buses().get("EventBuses", []):
        rules = events.list_rules(EventBusName=bus["Name"]).get("Rules", [])
        if rules or bus["Name"] != "default":
            drawn.add(bus["Arn"], "bus", bus["Name"])
        for rule in rules:
            note = rule.get("ScheduleExpression", "")
            drawn.add(rule["Arn"], "rule", rule["Name"], note)
            if rule.get("EventPattern"):
                drawn.connect(bus["Arn"], rule["Arn"], _compact(rule["EventPattern"]))
            elif not note:
                drawn.connect(bus["Arn"], rule["Arn"])
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])
            for target in targets.get("Targets", []):
                words = []
                if rule.get("State") == "DISABLED":
                    words.append("disabled")
                if "InputTransformer" in target:
                    words.append("transformed")
                elif "InputPath" in target or "Input" in target:
                    words.append("input")
                drawn.connect(rule["Arn"], target["Arn"], ", ".join(words))
                dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
                if dead_letter:
                    drawn.connect(rule["Arn"], dead_letter, "DLQ", "dlq")


def _schedules(drawn: Architecture, boto3: Any) -> None:
    scheduler = boto3.client("scheduler")
    for page in scheduler.get_paginator("list_schedules").paginate():
        for summary in page["Schedules"]:
            schedule = scheduler.get_schedule(Name=summary["Name"],
                                              GroupName=summary.get("GroupName", "default"))
            drawn.add(schedule["Arn"], "schedule", schedule["Name"],
                      schedule.get("ScheduleExpression", ""))
            target = schedule.get("Target") or {}
            if target.get("Arn"):
                drawn.connect(schedule["Arn"], target["Arn"])
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            if dead_letter:
                drawn.connect(schedule["Arn"], dead_letter, "DLQ", "dlq")


def _tables(drawn: Architecture, boto3: Any) -> None:
    dynamodb = boto3.client("dynamodb")
    for page in dynamodb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            table = dynamodb.describe_table(TableName=name)["Table"]
            drawn.add(table["TableArn"], "table", name)
            stream = table.get("LatestStreamArn")
            if stream and (table.get("StreamSpecification") or {}).get("StreamEnabled", True):
                view = (table.get("StreamSpecification") or {}).get("StreamViewType", "")
                drawn.add(stream, "stream", name)
                drawn.connect(table["TableArn"], stream, view)


def _kinesis(drawn: Architecture, boto3: Any) -> None:
    kinesis = boto3.client("kinesis")
    for summary in kinesis.list_streams().get("StreamSummaries", []):
        drawn.add(summary["StreamARN"], "kinesis", summary["StreamName"])


def _rest_apis(drawn: Architecture, boto3: Any) -> None:
    rest = boto3.client("apigateway")
    for api in rest.get_rest_apis(limit=500).get("items", []):
        arn = f"rest-api:{api['id']}"
        drawn.add(arn, "api", api["name"], "REST")
        for resource in rest.get_resources(restApiId=api["id"], limit=500,
                                           embed=["methods"]).get("items", []):
            for method, described in (resource.get("resourceMethods") or {}).items():
                uri = ((described or {}).get("methodIntegration") or {}).get("uri", "")
                if not uri:
                    try:
                        uri = rest.get_integration(restApiId=api["id"], resourceId=resource["id"],
                                                   httpMethod=method).get("uri", "")
                    except Exception:  # a method without an integration yet
                        uri = ""
                target = _integration_target(uri)
                if target:
                    drawn.connect(arn, target, f"{method} {resource['path']}")


def _http_apis(drawn: Architecture, boto3: Any) -> None:
    http = boto3.client("apigatewayv2")
    for api in http.get_apis().get("Items", []):
        arn = f"http-api:{api['ApiId']}"
        drawn.add(arn, "api", api["Name"], api.get("ProtocolType", "HTTP"))
        integrations = {i["IntegrationId"]: i for i in
                        http.get_integrations(ApiId=api["ApiId"]).get("Items", [])}
        for route in http.get_routes(ApiId=api["ApiId"]).get("Items", []):
            integration = integrations.get(route.get("Target", "").removeprefix("integrations/"))
            target = _integration_target((integration or {}).get("IntegrationUri", ""))
            if target:
                drawn.connect(arn, target, route["RouteKey"])


def _integration_target(uri: str) -> str:
    """The function (or other ARN) an API integration's URI names."""
    found = re.search(r"(arn:aws:lambda:[^/]+:function:[^/]+?)(/invocations)?$", uri)
    if found:
        return found.group(1)
    return uri if uri.startswith("arn:aws:lambda:") else ""


def _state_machines(drawn: Architecture, boto3: Any) -> None:
    sfn = boto3.client("stepfunctions")
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            arn = machine["stateMachineArn"]
            drawn.add(arn, "statemachine", machine["name"])
            definition = json.loads(sfn.describe_state_machine(
                stateMachineArn=arn)["definition"])
            for function in sorted(_called(definition)):
                drawn.connect(arn, function, "Task")


def _called(scope: Any) -> set[str]:
    """The Lambda functions a definition's Task states invoke (a function ARN as Resource, or
    the optimized integration's FunctionName)."""
    found: set[str] = set()
    if isinstance(scope, dict):
        resource = scope.get("Resource")
        if isinstance(resource, str) and resource.startswith("arn:aws:lambda:"):
            found.add(resource)
        if isinstance(resource, str) and resource.startswith("arn:aws:states:::lambda:invoke"):
            arguments = scope.get("Parameters") or scope.get("Arguments") or {}
            name = arguments.get("FunctionName") if isinstance(arguments, dict) else None
            if isinstance(name, str) and name.startswith("arn:aws:lambda:"):
                found.add(name)
        for value in scope.values():
            found |= _called(value)
    elif isinstance(scope, list):
        for value in scope:
            found |= _called(value)
    return found


READERS: list[Callable[[Architecture, Any], None]] = [
    _buckets, _rest_apis, _http_apis, _topics, _rules, _schedules, _queues, _tables, _kinesis,
    _state_machines, _functions]  # functions last: a role's resources are drawn only if they exist


def trace(event_id: str | None = None) -> Trace:
    """The hops of one event (a MessageId, an EventId, an invocation's request id) and of the
    events it caused, as the sandbox recorded them; without an id, the latest event a learner's
    call produced."""
    from ..client import current

    sandbox = current()
    if sandbox is None:
        raise RuntimeError("no sandbox is running: run sb = sandbox.start() first")
    if event_id is None:
        event_id = latest_event(sandbox.admin.deliveries())
        if event_id is None:
            return Trace(LATEST, [])
    return Trace(event_id, sandbox.admin.trace(event_id))


def latest_event(hops: list[dict[str, Any]]) -> str | None:
    """The id to trace for the latest event a learner's call produced: of the latest hop that
    no recorded event caused, its parent (the producer's request, such as an S3 PutObject's
    request id) or, without one, its own event."""
    events = {hop["event_id"] for hop in hops}
    roots = [hop for hop in hops if hop.get("parent", "") not in events]
    return str(roots[-1].get("parent") or roots[-1]["event_id"]) if roots else None
