"""Fargate pricing (sandbox/course/pricing.py), from the AWS Fargate pricing page
(aws.amazon.com/fargate/pricing/): us-east-1 Linux on-demand, $0.04048 per vCPU-hour and
$0.004445 per GB-hour on x86, $0.03238 and $0.00356 on ARM (Graviton), ephemeral storage beyond
the 20 GB included at $0.000111 per GB-hour; per-second billing with a one-minute minimum, from
the start of the image download until the task stops."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sandbox.course.pricing import (
    FARGATE_US_EAST_1,
    fargate_billed_seconds,
    fargate_cost,
    task_cost,
)
from sandbox.errors import BadArgumentError


def test_the_prices_are_the_pages() -> None:
    assert FARGATE_US_EAST_1.per_vcpu_hour == {"x86_64": 0.04048, "arm64": 0.03238}
    assert FARGATE_US_EAST_1.per_gb_hour == {"x86_64": 0.004445, "arm64": 0.00356}
    assert FARGATE_US_EAST_1.per_storage_gb_hour == 0.000111


def test_billing_is_per_second_with_a_one_minute_minimum() -> None:
    assert fargate_billed_seconds(5) == 60
    assert fargate_billed_seconds(60) == 60
    assert fargate_billed_seconds(60.2) == 61
    assert fargate_billed_seconds(1200) == 1200


def test_a_20_minute_job_on_1_vcpu_and_2_gb() -> None:
    """1 vCPU x 1/3 h x $0.04048 + 2 GB x 1/3 h x $0.004445, worked by hand."""
    bill = fargate_cost(1, 2, 1200)
    assert bill.vcpu_cost == pytest.approx(0.04048 / 3)
    assert bill.memory_cost == pytest.approx(2 * 0.004445 / 3)
    assert bill.total == pytest.approx(0.0164567, abs=1e-7)
    arm = fargate_cost(1, 2, 1200, architecture="arm64")
    assert arm.total == pytest.approx((0.03238 + 2 * 0.00356) / 3)
    assert "total:   $0.0165" in str(bill)


def test_a_short_task_pays_a_minute_and_extra_storage_is_billed() -> None:
    short = fargate_cost(0.25, 0.5, 10)
    assert short.total == pytest.approx((0.25 * 0.04048 + 0.5 * 0.004445) / 60)
    storage = fargate_cost(0.25, 0.5, 3600, ephemeral_storage_gb=30)
    assert storage.storage_cost == pytest.approx(10 * 0.000111)
    many = fargate_cost(0.25, 0.5, 3600, tasks=10)
    assert many.total == pytest.approx(10 * fargate_cost(0.25, 0.5, 3600).total)


def test_a_described_task_is_priced_from_pull_start_to_stop() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    task = {"cpu": "1024", "memory": "2048", "createdAt": start,
            "pullStartedAt": start + timedelta(seconds=10),
            "stoppedAt": start + timedelta(seconds=1210)}
    assert task_cost(task).billed_seconds == 1200
    assert task_cost(task).total == pytest.approx(fargate_cost(1, 2, 1200).total)
    with pytest.raises(BadArgumentError, match="has not stopped"):
        task_cost({"cpu": "256", "memory": "512", "lastStatus": "RUNNING"})


def test_what_fargate_does_not_have_is_refused() -> None:
    with pytest.raises(BadArgumentError, match="no architecture 'i386'"):
        fargate_cost(1, 2, 60, architecture="i386")
    with pytest.raises(BadArgumentError, match="above 0"):
        fargate_cost(0, 2, 60)


def test_a_tasks_own_ephemeral_storage_is_priced(sb: object) -> None:
    """A task definition's ephemeralStorage (sizeInGiB) shows on its tasks, and what is beyond
    the 20 GB included is billed."""
    import boto3

    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="jobs")
    ecs.register_task_definition(
        family="big", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", ephemeralStorage={"sizeInGiB": 50},
        containerDefinitions=[{"name": "app", "image": "python:3.12",
                               "command": ["python", "-c", "pass"]}])
    subnet = boto3.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    arn = ecs.run_task(cluster="jobs", taskDefinition="big", launchType="FARGATE",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}}
                       )["tasks"][0]["taskArn"]
    assert sb.settle()  # type: ignore[attr-defined]
    task = ecs.describe_tasks(cluster="jobs", tasks=[arn])["tasks"][0]
    assert task["ephemeralStorage"] == {"sizeInGiB": 50}
    bill = task_cost(task)
    assert bill.storage_cost == pytest.approx(30 * 0.000111 * bill.billed_seconds / 3600)
