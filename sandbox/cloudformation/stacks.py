"""CloudFormation's stack life cycle where moto's differs: the SAM transform, validation before
anything is made, a resource's events, and the rollback of a stack that failed to create.

Rows of sandbox/seams.py (its CloudFormation section) put these in place of moto's; moto's
engine (moto/cloudformation/parsing.py: the lazy ResourceMap, intrinsics, conditions, outputs)
does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import template as templates
from .transform import SamTransformError, transform

# CloudFormation's own words ("Troubleshooting CloudFormation", stack status codes:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html)
ROLLBACK_REASON = "The following resource(s) failed to create: [{ids}]. Rollback requested by user."
# a failed update's UPDATE_ROLLBACK_IN_PROGRESS, as stacks' events record it (an example in
# "Monitor stack progress"; recorded events: "...failed to update: [LambdaFunction].")
UPDATE_ROLLBACK_REASON = "The following resource(s) failed to {verb}: [{ids}]."
CANCELLED = "Resource creation cancelled"
UNSUPPORTED = ("Template format error: Unrecognized resource types: [{types}]. (The sandbox's "
               "CloudFormation cannot create {these}; the README's section 'Bring your own "
               "application' lists the types it can.)")
# parameters that CloudFormation resolves itself ("Pseudo parameters reference")
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::Partition",
          "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}


def _validation_error(message: str) -> Exception:
    from moto.cloudformation.exceptions import ValidationError

    return ValidationError(message=message)


# ---------------------------------------------------------------------- parsing
def parse_template(template: str) -> dict[str, Any]:
    """Stack.parse_template: the template as moto's engine reads it, the SAM transform applied,
    every resource type one the sandbox can create."""
    if isinstance(template, dict):  # moto hands over {} for a change set's empty stack
        return template
    try:
        document = templates.loads(template)
    except templates.TemplateError as error:
        raise _validation_error(str(error)) from None
    if templates.is_sam(document):
        try:
            document = transform(document, {})
        except SamTransformError as error:
            raise _validation_error(str(error)) from None
    check_types(document)
    return document


def change_set_parse_template(self: Any) -> None:
    """ChangeSet._parse_template: the same reading as a stack's (moto has its own copy)."""
    self.template_dict = parse_template(self.template)


def supported_types() -> list[str]:
    """Every resource type the sandbox's CloudFormation can create."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    return sorted({*get_model_map(), *NULL_MODELS})


def check_types(document: dict[str, Any]) -> None:
    """An unsupported resource type fails the template before anything is made (moto warns and
    skips the resource, leaving a stack that lacks it)."""
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return  # moto's ResourceMap says "At least one Resources member must be defined."
    known = set(supported_types())
    unknown = sorted({resource.get("Type", "") for resource in resources.values()
                      if isinstance(resource, dict) and resource.get("Type") not in known
                      and not str(resource.get("Type", "")).startswith("Custom::")
                      and resource.get("Type") != "AWS::CloudFormation::CustomResource"})
    if unknown:
        raise _validation_error(UNSUPPORTED.format(
            types=", ".join(unknown),
            these="this type" if len(unknown) == 1 else "these types"))


# ---------------------------------------------------------------------- parameters
def check_parameters(document: dict[str, Any], given: dict[str, Any]) -> None:
    """Parameters as CloudFormation checks them before anything is made ("Parameters" in the
    template anatomy: AllowedValues, AllowedPattern, MinLength, MaxLength, MinValue, MaxValue;
    a value for a parameter the template does not declare is refused)."""
    declared = document.get("Parameters") or {}
    unknown = [name for name in given if name not in declared]
    if unknown:
        raise _validation_error(f"Parameters: [{', '.join(unknown)}] do not exist in the "
                                "template")
    for name, spec in declared.items():
        if not isinstance(spec, dict):
            continue
        value = given.get(name, spec.get("Default"))
        if value is None:
            continue  # moto's MissingParameterError answers that
        kind = spec.get("Type", "String")
        values = (str(value).split(",") if kind == "CommaDelimitedList" or kind.startswith("List")
                  else [str(value)])
        for item in values:
            _check_parameter(name, spec, kind, item)


def _check_parameter(name: str, spec: dict[str, Any], kind: str, value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(option) for option in allowed]:
        raise _validation_error(spec.get("ConstraintDescription")
                                or f"Parameter '{name}' must be one of AllowedValues")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        raise _validation_error(spec.get("ConstraintDescription")
                                or f"Parameter '{name}' must match pattern {pattern}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise _validation_error(f"Parameter '{name}' must contain at least "
                                f"{spec['MinLength']} characters")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise _validation_error(f"Parameter '{name}' must contain at most "
                                f"{spec['MaxLength']} characters")
    if kind == "Number" or kind == "List<Number>":
        try:
            number = float(value)
        except ValueError:
            raise _validation_error(f"Parameter '{name}' must be a number not {value}") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise _validation_error(f"Parameter '{name}' must be a number not less than "
                                    f"{spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise _validation_error(f"Parameter '{name}' must be a number not greater than "
                                    f"{spec['MaxValue']}")


def load_parameters(original: Callable[..., Any]) -> Callable[..., Any]:
    """ResourceMap.load_parameters: a list parameter's default is a list too (moto splits only
    the values given, so ``Default: "a,b"`` stayed one string for Fn::Select)."""

    def load_parameters(self: Any) -> None:
        original(self)
        for name, spec in (self._template.get("Parameters") or {}).items():
            kind = str(spec.get("Type", "String")) if isinstance(spec, dict) else ""
            value = self.resolved_parameters.get(name)
            if isinstance(value, str) and (kind == "CommaDelimitedList"
                                           or kind.startswith("List<")):
                self.resolved_parameters[name] = value.split(",")
                self._parsed_resources[name] = self.resolved_parameters[name]

    return load_parameters


def _validate(template: str, parameters: dict[str, Any]) -> None:
    check_parameters(parse_template(template), parameters)


# ---------------------------------------------------------------------- the backend's operations
def create_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateStack: the template and its parameters are checked before anything is made; a
    stack whose resources failed is rolled back, its exports withdrawn."""

    def create_stack(self: Any, name: str, template: str, parameters: dict[str, Any],
                     *args: Any, **kwargs: Any) -> Any:
        _validate(template, parameters)
        try:
            stack = original(self, name, template, parameters, *args, **kwargs)
        except Exception as error:
            # moto resolves the exports' values before create_resources: a resource made
            # there fails outside the rollback below
            stack = next((s for s in self.stacks.values() if s.name == name), None)
            if stack is None or stack.status != "CREATE_PENDING":
                raise
            _roll_back(stack, error)
        if stack.status.startswith("ROLLBACK"):
            for export_name in [n for n, e in self.exports.items()
                                if e.exporting_stack_id == stack.stack_id]:
                del self.exports[export_name]
        return stack

    return create_stack


def create_change_set(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateChangeSet: a template CloudFormation refuses leaves no stack behind (moto made a
    REVIEW_IN_PROGRESS stack before reading the template)."""

    def create_change_set(self: Any, stack_name: str, change_set_name: str, template: str,
                          parameters: dict[str, str], *args: Any, **kwargs: Any) -> Any:
        _validate(template, parameters)
        return original(self, stack_name, change_set_name, template, parameters, *args,
                        **kwargs)

    return create_change_set


def update_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    """UpdateStack: the new template is checked before anything changes; a resource that fails
    rolls the update back, and the stack keeps its template (UpdateStack itself answers with
    the stack's id, as on AWS: the failure is in the stack's status and events)."""

    def update_stack(self: Any, name: str, template: str, role_arn: str | None,
                     parameters: list[dict[str, Any]], tags: dict[str, str] | None) -> Any:
        given = {p["ParameterKey"]: p.get("ParameterValue") for p in parameters
                 if not p.get("UsePreviousValue")}
        _validate(template, given)
        stack = self.get_stack(name)
        previous = stack.template
        try:
            return original(self, name, template, role_arn, parameters, tags)
        except Exception as error:  # noqa: BLE001  (any resource's update)
            stack.template = previous
            stack._parse_template()
            _update_failed(stack, error)
            return stack

    return update_stack


def execute_change_set(original: Callable[..., Any]) -> Callable[..., Any]:
    """ExecuteChangeSet: a resource that fails to create rolls the new stack back (moto lets the
    exception through, leaving half a stack: "TODO: handle execution errors and implement
    rollback" in moto/cloudformation/models.py); a failed update is reported as one."""

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None
                           ) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        # Fn::ImportValue reads the other stacks' exports (moto gives a change set's new stack
        # none)
        stack.cross_stack_resources = stack.resource_map.cross_stack_resources = self.exports
        try:
            original(self, change_set_name, stack_name)
            # moto keeps the outputs of the template the stack was made with ({} for a
            # change set's new stack): the stack shows the executed template's outputs
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.output_map = stack._create_output_map()
            for export_name in [n for n, e in self.exports.items()
                                if e.exporting_stack_id == stack.stack_id]:
                del self.exports[export_name]
            self._validate_export_uniqueness(stack)
            for export in stack.exports:
                self.exports[export.name] = export
        except Exception as error:  # noqa: BLE001  (any failure of a resource's creation)
            change_set.execution_status = "EXECUTE_FAILED"
            if change_set.change_set_type == "CREATE":
                _roll_back(stack, error)
            else:
                _update_failed(stack, error)

    return execute_change_set


def delete_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    """DeleteStack: a resource that cannot be deleted (a bucket with objects in it) leaves the
    stack DELETE_FAILED with the reason, listed and deletable again once it is emptied, as on
    AWS (moto lets the error out of DeleteStack, the stack half deleted and no longer listed)."""

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = next((s for s in self.stacks.values()
                      if name_or_stack_id in (s.stack_id, s.name)), None)
        try:
            original(self, name_or_stack_id)
        except Exception as error:  # noqa: BLE001  (any resource's deletion)
            if stack is None:
                raise
            stack.status = "DELETE_FAILED"
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=(
                f"The following resource(s) failed to delete: {_reason(error)}"))
            self.stacks[stack.stack_id] = stack
            self.deleted_stacks.pop(stack.stack_id, None)

    return delete_stack


def create_resources(original: Callable[..., Any]) -> Callable[..., Any]:
    """Stack.create_resources: on a failure, CREATE_FAILED, then the rollback."""

    def create_resources(self: Any) -> None:
        try:
            original(self)
        except Exception as error:  # noqa: BLE001
            _roll_back(self, error)

    return create_resources


def _failed_ids(stack: Any) -> list[str]:
    return [event.logical_resource_id for event in stack.events
            if event.resource_status.endswith("_FAILED")
            and event.resource_type != "AWS::CloudFormation::Stack"
            and event.resource_status_reason != CANCELLED]


def _roll_back(stack: Any, error: Exception) -> None:
    """What CloudFormation does when a resource fails to create: ROLLBACK_IN_PROGRESS, every
    resource made so far deleted, ROLLBACK_COMPLETE; the stack stays, to be read and deleted."""
    failed = _failed_ids(stack) or [stack.name]
    if not _failed_ids(stack):  # the failure was not a resource's (an output, a condition)
        stack._add_stack_event("CREATE_FAILED", resource_status_reason=_reason(error))
    stack.status = "ROLLBACK_IN_PROGRESS"
    stack._add_stack_event("ROLLBACK_IN_PROGRESS",
                           resource_status_reason=ROLLBACK_REASON.format(ids=", ".join(failed)))
    made = {logical_id: resource for logical_id, resource
            in stack.resource_map._parsed_resources.items()
            if hasattr(resource, "logical_resource_id")}
    try:
        stack.resource_map.delete()
    except Exception as problem:  # noqa: BLE001
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=_reason(problem))
        return
    for logical_id, resource in made.items():
        _resource_event(stack, logical_id, getattr(resource, "cf_resource_type", ""),
                        "DELETE_COMPLETE", physical_id=_physical_id(resource))
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")
    _inert(stack)


def _inert(stack: Any) -> None:
    """A rolled-back stack has no resources and no outputs. moto's maps are lazy: reading an
    output would make the resource it names again, so the stack keeps empty ones."""
    from moto.cloudformation.parsing import OutputMap

    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)


def _update_failed(stack: Any, error: Exception) -> None:
    """A failed update, as CloudFormation rolls it back: UPDATE_FAILED (or CREATE_FAILED for a
    new resource) with the reason, UPDATE_ROLLBACK_IN_PROGRESS, each resource back as it was,
    UPDATE_ROLLBACK_COMPLETE; the stack keeps its previous template and outputs. A resource
    that cannot be put back leaves the stack UPDATE_ROLLBACK_FAILED."""
    for logical_id, (kind, reason) in getattr(stack, "_sandbox_update_failures", {}).items():
        _resource_event(stack, logical_id, kind, "UPDATE_FAILED", reason=reason)
    stack._sandbox_update_failures = {}
    since = max((i for i, event in enumerate(stack.events)
                 if event.logical_resource_id == stack.name
                 and event.resource_status == "UPDATE_IN_PROGRESS"), default=0)
    events = stack.events[since:]
    updates = [e.logical_resource_id for e in events if e.resource_status == "UPDATE_FAILED"]
    creates = [e.logical_resource_id for e in events if e.resource_status == "CREATE_FAILED"
               and e.resource_status_reason != CANCELLED]
    reason = (UPDATE_ROLLBACK_REASON.format(verb="update", ids=", ".join(updates)) if updates
              else UPDATE_ROLLBACK_REASON.format(verb="create", ids=", ".join(creates))
              if creates else _reason(error))
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    try:
        _undo_update(stack)
    except Exception as problem:  # noqa: BLE001
        stack.status = "UPDATE_ROLLBACK_FAILED"
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=_reason(problem))
        return
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


# ---------------------------------------------------------------------- what a change set changes
def build_resource_diff(original: Callable[..., Any]) -> Callable[..., Any]:
    """ResourceMap.build_resource_diff: a resource also changes when a parameter it uses changes
    through a Condition (``!If [IsProd, ...]``, ``Condition: IsProd``); moto looks only for a
    direct ``Ref``."""

    def build_resource_diff(self: Any, other_template: dict[str, Any],
                            parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        actions: dict[str, Any] = original(self, other_template, parameters)
        changed = [name for name in parameters or {}
                   if self.input_parameters.get(name) != (parameters or {})[name]]
        if not changed:
            return actions
        conditions = other_template.get("Conditions") or {}
        affected: set[str] = set()
        while True:  # conditions that use a changed parameter, or an affected condition
            more = {name for name, body in conditions.items() if name not in affected and (
                set(_references(body)) & set(changed) or set(_conditions(body)) & affected)}
            if not more:
                break
            affected |= more
        old, new = self._resource_json_map, other_template["Resources"]
        for name, resource in new.items():
            if name in old and name not in actions["Modify"] and (
                    set(_references(resource)) & set(changed)
                    or set(_conditions(resource)) & affected
                    or resource.get("Condition") in affected):
                actions["Modify"].append(name)
        return actions

    return build_resource_diff


def resource_map_update(original: Callable[..., Any]) -> Callable[..., Any]:
    """ResourceMap.update in CloudFormation's order: changed resources that a new one uses are
    updated first, then the new resources are made, then the rest updated; resources the new
    template drops are deleted last, in the clean-up, once everything else has succeeded
    ("Update behaviors of stack resources"; moto deletes them first and makes every new
    resource before any update, so a failure could not be undone). A failure leaves what it
    takes to undo the update on the map, for the rollback (``_update_failed``)."""

    def update(self: Any, template: dict[str, Any],
               parameters: dict[str, Any] | None = None) -> None:
        from moto.cloudformation import parsing

        actions = self.build_resource_diff(template, parameters)
        before = _Before(self)
        new = template["Resources"]
        used = {name for added in actions["Add"] for name in _dependencies(new[added])}
        first = [name for name in actions["Modify"] if name in used]
        pending = [name for name in actions["Modify"] if name not in used]
        updated: list[str] = []
        self._sandbox_undo = None
        try:
            self._template = template
            if parameters:
                self.input_parameters = parameters
            self.load_mapping()
            self.load_parameters()
            self.load_conditions()
            self._resource_json_map = new
            for name in first:
                _update_one(self, parsing, name, new[name])
                updated.append(name)
            for name in actions["Add"]:
                self[name]  # moto's ResourceMap makes a resource when it is first read
            failure: Exception | None = None
            for _attempt in range(parsing.MAX_UPDATE_ATTEMPTS):
                # moto's retry: one update may wait for another (a dependency in the same
                # change)
                for name in list(pending):
                    try:
                        _update_one(self, parsing, name, new[name])
                    except Exception as error:  # noqa: BLE001
                        failure = error
                    else:
                        updated.append(name)
                        pending.remove(name)
                if not pending:
                    break
            if pending and failure is not None:
                raise failure
        except Exception:
            self._sandbox_undo = _Undo(before, actions["Add"], updated)
            raise
        _clean_up(self, before, actions["Remove"])

    return update


def _update_one(resource_map: Any, parsing: Any, name: str, definition: dict[str, Any]) -> None:
    changed = parsing.parse_and_update_resource(name, definition, resource_map,
                                                resource_map._account_id,
                                                resource_map._region_name)
    if changed is not None:  # None: a type moto cannot update keeps its resource
        resource_map._parsed_resources[name] = changed


class _Before:
    """A resource map's template, parameters and resources before an update."""

    def __init__(self, resource_map: Any):
        self.template = resource_map._template
        self.input_parameters = dict(resource_map.input_parameters or {})
        self.definitions = dict(resource_map._resource_json_map)
        self.resources = dict(resource_map._parsed_resources)


class _Undo:
    """What undoing a failed update takes: the map as it was, the resources the update added,
    and those it had changed, in order."""

    def __init__(self, before: _Before, added: list[str], updated: list[str]):
        self.before, self.added, self.updated = before, list(added), list(updated)


def _clean_up(resource_map: Any, before: _Before, removed: list[str]) -> None:
    """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the resources the new template no longer has are
    deleted. A resource that cannot be deleted is DELETE_FAILED, and the update still stands,
    as on AWS."""
    stack = _stack_of(resource_map, resource_map._account_id, resource_map._region_name)
    pending = [name for name in removed if name in resource_map._parsed_resources]
    reasons: dict[str, str] = {}
    for _attempt in range(5):  # a resource another removed one uses goes after it
        for name in list(pending):
            resource = resource_map._parsed_resources[name]
            try:
                resource_map._delete_resource(resource, before.definitions[name])
            except Exception as error:  # noqa: BLE001
                reasons[name] = _reason(error)
            else:
                pending.remove(name)
                del resource_map._parsed_resources[name]
                if stack is not None:
                    _resource_event(stack, name, before.definitions[name].get("Type", ""),
                                    "DELETE_COMPLETE", physical_id=_physical_id(resource))
        if not pending:
            break
    for name in pending:
        if stack is not None:
            _resource_event(stack, name, before.definitions[name].get("Type", ""),
                            "DELETE_FAILED", reason=reasons.get(name))


def _undo_update(stack: Any) -> None:
    """UPDATE_ROLLBACK_IN_PROGRESS: the resources the update made are deleted and those it
    changed are updated back to the previous template, which the stack keeps ("Monitor
    progress of stack updates": a failed update rolls back to the last known stable state).
    The map was left ready for it by ``resource_map_update``."""
    from moto.cloudformation import parsing

    resource_map = stack.resource_map
    undo: _Undo | None = getattr(resource_map, "_sandbox_undo", None)
    if undo is None:
        return
    resource_map._sandbox_undo = None
    before = undo.before
    for name in reversed(undo.added):
        resource = resource_map._parsed_resources.get(name)
        if resource is None or not hasattr(resource, "logical_resource_id"):
            continue  # never made: the failed one, or one it never reached
        resource_map._delete_resource(resource, resource_map._resource_json_map[name])
        _resource_event(stack, name, resource_map._resource_json_map[name].get("Type", ""),
                        "DELETE_COMPLETE", physical_id=_physical_id(resource))
    current = resource_map._parsed_resources
    resource_map._template = before.template
    resource_map.input_parameters = before.input_parameters
    resource_map._resource_json_map = before.definitions
    resource_map._parsed_resources = dict(before.resources)
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    for name in reversed(undo.updated):
        resource_map._parsed_resources[name] = current[name]
        _update_one(resource_map, parsing, name, before.definitions[name])


def _dependencies(resource: Any) -> set[str]:
    """The resources a resource's definition names: Ref, Fn::GetAtt, Fn::Sub's ${Name}s and
    DependsOn."""
    found: set[str] = set(_references(resource))
    depends = resource.get("DependsOn") if isinstance(resource, dict) else None
    found |= {depends} if isinstance(depends, str) else set(depends or [])

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            attribute = value.get("Fn::GetAtt")
            if isinstance(attribute, list) and attribute:
                found.add(str(attribute[0]))
            substitution = value.get("Fn::Sub")
            text = substitution[0] if isinstance(substitution, list) else substitution
            if isinstance(text, str):
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(resource)
    return found


def change_set_diff(self: Any) -> list[Any]:
    """ChangeSet.diff: the changes, parameters included (moto's diff ignores them)."""
    from moto.cloudformation.models import Change

    actions = self.stack.resource_map.build_resource_diff(self.template_dict, self.parameters)
    new, old = self.template_dict["Resources"], self.stack.resource_map._resource_json_map
    return [Change(action=action, logical_resource_id=name,
                   resource_type=(new.get(name) or old[name])["Type"])
            for action in ("Add", "Modify", "Remove") for name in actions[action]]


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["Ref"]] if isinstance(value.get("Ref"), str) else []
        return found + [r for item in value.values() for r in _references(item)]
    if isinstance(value, list):
        return [r for item in value for r in _references(item)]
    return []


def _conditions(value: Any) -> list[str]:
    """The conditions a value uses: ``Fn::If``'s first argument, ``{"Condition": name}``."""
    if isinstance(value, dict):
        found = [value["Fn::If"][0]] if isinstance(value.get("Fn::If"), list) else []
        if isinstance(value.get("Condition"), str) and len(value) == 1:
            found.append(value["Condition"])
        return found + [c for item in value.values() for c in _conditions(item)]
    if isinstance(value, list):
        return [c for item in value for c in _conditions(item)]
    return []


# ---------------------------------------------------------------------- a resource's events
def parse_and_create_resource(original: Callable[..., Any]) -> Callable[..., Any]:
    """parsing.parse_and_create_resource: each resource's CREATE_IN_PROGRESS and CREATE_COMPLETE,
    or CREATE_FAILED with its reason, in the stack's events (moto records only the stack's);
    the resources it DependsOn made before it."""

    def parse_and_create_resource(logical_id: str, resource_json: dict[str, Any],
                                  resources_map: Any, account_id: str, region_name: str) -> Any:
        stack = _stack_of(resources_map, account_id, region_name)
        condition = resource_json.get("Condition")
        skipped = condition and not resources_map.lazy_condition_map[condition]
        if skipped:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        # DependsOn: the resources named are made first (moto orders by it in CreateStack
        # only; a change set makes its resources in template order)
        depends = resource_json.get("DependsOn") or []
        for dependency in [depends] if isinstance(depends, str) else depends:
            resources_map[dependency]
        if stack is None:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        kind = resource_json.get("Type", "")
        _resource_event(stack, logical_id, kind, "CREATE_IN_PROGRESS")
        try:
            resource = original(logical_id, resource_json, resources_map, account_id,
                                region_name)
        except Exception as error:
            reported = getattr(error, "_sandbox_reported", False)
            _resource_event(stack, logical_id, kind, "CREATE_FAILED",
                            reason=CANCELLED if reported else _reason(error))
            try:
                error._sandbox_reported = True  # type: ignore[attr-defined]
            except AttributeError:
                pass
            raise
        _resource_event(stack, logical_id, kind, "CREATE_COMPLETE",
                        physical_id=_physical_id(resource))
        return resource

    return parse_and_create_resource


def parse_and_update_resource(original: Callable[..., Any]) -> Callable[..., Any]:
    """parsing.parse_and_update_resource: each updated resource's UPDATE_COMPLETE event; a
    failure's reason is kept for its UPDATE_FAILED event (moto retries a failed update up to
    five times, in case another resource had to change first)."""

    def parse_and_update_resource(logical_id: str, resource_json: dict[str, Any],
                                  resources_map: Any, account_id: str, region_name: str) -> Any:
        stack = _stack_of(resources_map, account_id, region_name)
        kind = resource_json.get("Type", "")
        try:
            resource = original(logical_id, resource_json, resources_map, account_id,
                                region_name)
        except Exception as error:
            if stack is not None:
                failures = stack.__dict__.setdefault("_sandbox_update_failures", {})
                failures[logical_id] = (kind, _reason(error))
            raise
        if stack is not None:
            stack.__dict__.setdefault("_sandbox_update_failures", {}).pop(logical_id, None)
            _resource_event(stack, logical_id, kind, "UPDATE_COMPLETE",
                            physical_id=_physical_id(resource))
        return resource

    return parse_and_update_resource


def _stack_of(resources_map: Any, account_id: str, region_name: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[account_id][region_name].stacks.get(resources_map.stack_id)


def _physical_id(resource: Any) -> str:
    try:
        return str(resource.physical_resource_id)
    except Exception:  # noqa: BLE001  (some of moto's models have none)
        return ""


def _resource_event(stack: Any, logical_id: str, kind: str, status: str, *,
                    reason: str | None = None, physical_id: str = "") -> None:
    from moto.cloudformation.models import Event

    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name,
                              logical_resource_id=logical_id, physical_resource_id=physical_id,
                              resource_type=kind, resource_status=status,
                              resource_status_reason=reason, resource_properties=None))


def _reason(error: BaseException) -> str:
    """A resource's failure as CloudFormation words it: the service's error message."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    code = getattr(error, "code", None) or getattr(error, "error_type", None)
    if isinstance(error, ValueError) and type(error) is ValueError:  # the sandbox's own words
        return str(error)
    if isinstance(error, (KeyError, TypeError, AttributeError)):
        return (f"The sandbox could not create this resource ({type(error).__name__}: "
                f"{error}): a property it needs may be missing or of the wrong type.")
    return f"{message} (Service: {code})" if isinstance(code, str) and code else str(message)
