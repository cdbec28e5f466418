"""Execution logs: a state machine's ``loggingConfiguration`` writes its history to CloudWatch
Logs, at the level it asks (ALL, ERROR, FATAL), with or without the execution's data.

moto's parser backend never opens a logging session (moto/stepfunctions/parser/models.py passes
``cloud_watch_logging_session=None``), and its session
(moto/stepfunctions/parser/asl/eval/event/logging.py) cannot write: it calls ``.timestamp()`` on
the ISO string the event manager hands it. Each log event is one JSON object, as AWS writes it:
``id``, ``type``, ``details``, ``previous_event_id``, ``event_timestamp`` (milliseconds since the
epoch), ``execution_arn`` and ``redrive_count``, every value a string but ``details``.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from moto.stepfunctions.parser.api import LoggingConfiguration
    from moto.stepfunctions.parser.asl.eval.event.logging import (
        CloudWatchLoggingConfiguration,
        CloudWatchLoggingSession,
        HistoryLog,
    )


def session_for(execution: Any) -> CloudWatchLoggingSession | None:
    """A logging session for ``execution``, if its state machine logs at all."""
    from moto.stepfunctions.parser.asl.eval.event.logging import (
        CloudWatchLoggingConfiguration,
        CloudWatchLoggingSession,
    )

    configuration: dict[str, Any] = getattr(execution.state_machine, "loggingConfiguration",
                                            None) or {}
    level = configuration.get("level", "OFF")
    if level == "OFF":
        return None
    where = CloudWatchLoggingConfiguration.extract_log_arn_parts_from(
        cast("LoggingConfiguration", configuration))
    if where is None:
        return None
    account_id, region, group = where
    settings = CloudWatchLoggingConfiguration(
        state_machine_arn=execution.state_machine.arn, log_account_id=account_id,
        log_region=region, log_group_name=group, log_level=level,
        include_execution_data=bool(configuration.get("includeExecutionData", False)))
    # AWS's stream names are its own; one stream per execution, named after it, reads well
    started = execution.start_date.strftime("%Y-%m-%d-%H-%M")
    name = f"states/{execution.state_machine.name}/{started}/{execution.name}"
    settings.log_stream_name = name  # type: ignore[misc]  # moto's Final: named once, by us

    class Session(CloudWatchLoggingSession):
        def publish_history_log(self, history_log: HistoryLog) -> None:
            publish(self.configuration, history_log)

    return Session(execution.exec_arn, settings)


def publish(settings: CloudWatchLoggingConfiguration, history_log: HistoryLog) -> None:
    from moto.logs.models import logs_backends

    logs = logs_backends[settings.log_account_id][settings.log_region]
    group = logs.groups.get(settings.log_group_name)
    if group is None:  # AWS refuses the configuration; moto accepts it: nothing to write to
        return
    # an ISO string in fact (see above), whatever moto's HistoryLog declares
    stamp: datetime.datetime | str = history_log["event_timestamp"]
    if isinstance(stamp, str):
        stamp = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    millis = int(stamp.timestamp() * 1000)
    message = {
        "id": str(history_log["id"]),
        "type": str(getattr(history_log["type"], "value", history_log["type"])),
        "details": history_log.get("details") or {},
        "previous_event_id": str(history_log["previous_event_id"]),
        "event_timestamp": str(millis),
        "execution_arn": history_log["execution_arn"],
        "redrive_count": "0",
    }
    if settings.log_stream_name not in group.streams:
        group.create_log_stream(settings.log_stream_name)
    group.streams[settings.log_stream_name].put_log_events(
        [{"timestamp": millis, "message": json.dumps(message, default=str)}])
