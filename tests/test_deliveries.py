"""The record of events' hops between services, and waiting for deliveries to settle."""

import threading

import pytest

from sandbox.server.deliveries import DELIVERED, FILTERED, Deliveries


def test_trace_follows_the_events_an_event_caused():
    record = Deliveries()
    record.record("arn:aws:sns:us-east-1:123456789012:t", "arn:aws:sqs:us-east-1:123456789012:q",
                  "q-1", DELIVERED, parent="m-1", kind="sns")
    record.record("arn:aws:sns:us-east-1:123456789012:t", "arn:aws:sqs:us-east-1:123456789012:r",
                  "r-1", FILTERED, parent="m-1", kind="sns")
    record.record("arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:lambda:us-east-1:1:function:f",
                  "inv-1", DELIVERED, parent="q-1", kind="esm")
    record.record("arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:lambda:us-east-1:1:function:f",
                  "inv-2", DELIVERED, parent="q-2", kind="esm")  # another message's
    assert [hop.event_id for hop in record.trace("m-1")] == ["q-1", "r-1", "inv-1"]
    assert [hop.seq for hop in record.since(2)] == [3, 4]


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        Deliveries().record("a", "b", "e", "maybe")


def test_settle_waits_for_a_busy_deliverer_and_names_one_that_never_finishes():
    record = Deliveries()
    done = threading.Event()
    record.register_busy("slow", lambda: not done.is_set())
    threading.Timer(0.2, done.set).start()
    assert record.settle(timeout=5) == []
    record.register_busy("stuck", lambda: True)
    assert record.settle(timeout=0.2) == ["stuck"]


def test_the_notebook_waits_for_asynchronous_invocations_and_reads_hops(sb):
    assert sb.settle(timeout=5) is True
    assert sb.admin.deliveries() == []
    assert sb.admin.trace("nothing") == []
