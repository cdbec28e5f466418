"""Distributed Map ("Using Map state in Distributed mode for large-scale parallel workloads in
Step Functions", Step Functions developer guide): items read from S3 (a JSON array, CSV with a
header row, an object listing), EXPRESS or STANDARD child workflows, ItemSelector,
MaxConcurrency, tolerated failures, ResultWriter, and the map run behind ListMapRuns and
DescribeMapRun."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from test_stepfunctions import machine, run

from sandbox.stepfunctions.distributed import exceeded, for_the_parser

MAY = ("s3:GetObject", "s3:ListBucket", "s3:PutObject", "states:StartExecution")
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
FAIL = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Bad", "Cause": "odd"}}}
JSON_READER = {"Resource": "arn:aws:states:::s3:getObject",
               "ReaderConfig": {"InputType": "JSON"},
               "Parameters": {"Bucket": "data", "Key": "items.json"}}


def _map(fields: dict, execution_type: str = "STANDARD", processor: dict | None = None,
         catch: bool = False) -> dict:
    state = {"Type": "Map", "MaxConcurrency": 2, **fields, "End": True,
             "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                                   "ExecutionType": execution_type},
                               **(processor or ECHO)}}
    states = {"Fan": state}
    if catch:
        state["Catch"] = [{"ErrorEquals": ["States.ExceededToleratedFailureThreshold"],
                           "Next": "Caught"}]
        states["Caught"] = {"Type": "Pass", "End": True}
    return {"StartAt": "Fan", "States": states}


@pytest.fixture
def data(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="items.json",
                  Body=json.dumps([{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]))
    s3.put_object(Bucket="data", Key="items.csv", Body="n,name\n1,a\n2,b\n")
    return s3


def _finished(definition: dict, execution_input: object = None) -> dict:
    return run(machine(definition, may=MAY), execution_input)


def _output(definition: dict, execution_input: object = None) -> object:
    done = _finished(definition, execution_input)
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    return json.loads(done["output"])


@pytest.mark.parametrize("execution_type", ["STANDARD", "EXPRESS"])
def test_items_from_a_json_array_in_s3(data, execution_type):
    # EXPRESS child workflows are valid on AWS; moto's grammar refused them
    assert _output(_map({"ItemReader": JSON_READER}, execution_type)) == \
        [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]


def test_items_from_a_csv_file_with_its_header_row(data):
    # each row an object keyed by the header, every value a string (the ItemReader page)
    assert _output(_map({"ItemReader": {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket": "data", "Key": "items.csv"}}})) == \
        [{"n": "1", "name": "a"}, {"n": "2", "name": "b"}]


def test_items_from_an_s3_listing_are_awss_object_records(data):
    items = _output(_map({"ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                                         "Parameters": {"Bucket": "data", "Prefix": "items"}}}))
    assert [item["Key"] for item in items] == ["items.csv", "items.json"]
    # {"Etag", "Key", "LastModified" (epoch seconds), "Size", "StorageClass"}, as AWS gives them
    first = items[0]
    assert set(first) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert isinstance(first["LastModified"], int) and first["Size"] == len("n,name\n1,a\n2,b\n")


def test_item_selector_reads_the_item_and_its_index(data):
    assert _output(_map({"ItemReader": JSON_READER, "ItemSelector": {
        "value.$": "$$.Map.Item.Value.n", "index.$": "$$.Map.Item.Index"}})) == \
        [{"value": n, "index": n - 1} for n in (1, 2, 3, 4)]


def test_the_map_run_is_listed_and_described(data):
    done = _finished(_map({"ItemReader": JSON_READER, "Label": "fan"}))
    sfn = boto3.client("stepfunctions")
    runs = sfn.list_map_runs(executionArn=done["executionArn"])["mapRuns"]
    assert len(runs) == 1 and ":mapRun:machine/fan:" in runs[0]["mapRunArn"]
    described = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
    assert (described["status"], described["maxConcurrency"]) == ("SUCCEEDED", 2)
    assert (described["itemCounts"]["succeeded"], described["itemCounts"]["total"]) == (4, 4)


def test_a_failing_child_fails_the_map_when_nothing_is_tolerated(data):
    done = _finished(_map({"ItemReader": JSON_READER}, processor=FAIL))
    assert (done["status"], done["error"]) == \
        ("FAILED", "States.ExceededToleratedFailureThreshold")


@pytest.mark.parametrize("tolerance, fails", [
    ({"ToleratedFailurePercentage": 50}, True),    # 4 of 4 failed: 100% > 50%
    ({"ToleratedFailurePercentage": 100}, False),
    ({"ToleratedFailureCount": 3}, True),          # 4 > 3
    ({"ToleratedFailureCount": 4}, False)])
def test_failures_within_the_tolerance_leave_the_map_succeeding(data, tolerance, fails):
    # a whole percentage is valid on AWS; moto's grammar wanted 50.0
    done = _finished(_map({"ItemReader": JSON_READER, **tolerance}, processor=FAIL, catch=True))
    assert done["status"] == "SUCCEEDED"
    caught = json.loads(done["output"])
    if fails:
        assert caught["Error"] == "States.ExceededToleratedFailureThreshold"
    else:
        assert not (isinstance(caught, dict) and "Error" in caught)


def test_the_threshold_rule():
    assert exceeded(1, 10, 0, 0) and not exceeded(0, 10, 0, 0)
    assert not exceeded(2, 10, 2, 0) and exceeded(3, 10, 2, 0)
    assert not exceeded(2, 10, 0, 20.0) and exceeded(3, 10, 0, 20.0)
    assert exceeded(3, 10, 5, 20.0)  # either threshold exceeded fails the run


def test_the_parser_reads_the_learners_definition_unchanged_otherwise():
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
    assert for_the_parser(text) is text


@pytest.mark.parametrize("fields, named", [
    ({"ItemReader": JSON_READER, "ItemBatcher": {"MaxItemsPerBatchPath": "$.n"}},
     "an ItemBatcher with paths"),
    ({"ItemReader": JSON_READER, "ItemBatcher": {"MaxItemsPerBatch": 2},
      "ItemSelector": {"v.$": "$$.Map.Item.Value"}}, "an ItemBatcher with paths")])
def test_what_the_sandbox_does_not_run_is_refused_saying_so(data, fields, named):
    with pytest.raises(ClientError) as refused:
        machine(_map(fields), may=MAY)
    message = refused.value.response["Error"]["Message"]
    assert f"the sandbox does not run {named}" in message and "(AWS does" in message


def test_result_writer_writes_the_results_and_a_manifest_listing_them(data):
    # AWS writes <Prefix>/<map run id>/manifest.json and SUCCEEDED_0.json / FAILED_0.json
    # ("ResultWriter", developer guide); the Map's output names the manifest
    halves = {"StartAt": "Odd?", "States": {
        "Odd?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1,
                                                "Next": "No"}], "Default": "Yes"},
        "No": {"Type": "Fail", "Error": "Odd", "Cause": "one"},
        "Yes": {"Type": "Pass", "Parameters": {"double.$": "States.MathAdd($.n, $.n)"},
                "End": True}}}
    output = _output(_map({"ItemReader": JSON_READER, "ToleratedFailureCount": 1,
                           "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                            "Parameters": {"Bucket": "data",
                                                           "Prefix": "runs"}}},
                          processor=halves))
    run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    assert output["ResultWriterDetails"] == {"Bucket": "data",
                                             "Key": f"runs/{run_id}/manifest.json"}
    read = lambda key: json.loads(data.get_object(Bucket="data", Key=key)["Body"].read())  # noqa: E731
    manifest = read(f"runs/{run_id}/manifest.json")
    assert manifest["DestinationBucket"] == "data" and manifest["MapRunArn"] == \
        output["MapRunArn"]
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == \
        [f"runs/{run_id}/SUCCEEDED_0.json"]
    assert manifest["ResultFiles"]["PENDING"] == []
    succeeded = read(f"runs/{run_id}/SUCCEEDED_0.json")
    assert [json.loads(r["Output"]) for r in succeeded] == \
        [{"double": 4}, {"double": 6}, {"double": 8}]
    assert {r["Status"] for r in succeeded} == {"SUCCEEDED"}
    [failed] = read(manifest["ResultFiles"]["FAILED"][0]["Key"])
    assert (failed["Status"], failed["Error"], failed["Cause"], json.loads(failed["Input"])) \
        == ("FAILED", "Odd", "one", {"n": 1})
    for listed in manifest["ResultFiles"]["SUCCEEDED"] + manifest["ResultFiles"]["FAILED"]:
        assert data.head_object(Bucket="data", Key=listed["Key"])["ContentLength"] == \
            listed["Size"]


def test_item_batcher_gives_each_child_a_batch(data):
    # "ItemBatcher": each child's input is {"BatchInput": ..., "Items": [...]}
    assert _output(_map({"ItemReader": JSON_READER, "ItemBatcher": {
        "MaxItemsPerBatch": 3, "BatchInput": {"run": "r1"}}})) == [
        {"BatchInput": {"run": "r1"}, "Items": [{"n": 1}, {"n": 2}, {"n": 3}]},
        {"BatchInput": {"run": "r1"}, "Items": [{"n": 4}]}]


def test_batches_keep_under_their_byte_limit():
    from sandbox.stepfunctions.distributed import batches

    items = [{"n": n} for n in range(10)]
    made = batches(items, {"MaxInputBytesPerBatch": 40})
    assert [item for batch in made for item in batch["Items"]] == items
    assert all(len(json.dumps(batch).encode()) <= 40 for batch in made) and len(made) > 1
    assert batches(items, {"MaxItemsPerBatch": 4})[-1] == {"Items": items[8:]}


def test_states_all_catches_the_threshold_error_and_the_history_shows_the_failed_run(data):
    definition = _map({"ItemReader": JSON_READER}, processor=FAIL, catch=True)
    definition["States"]["Fan"]["Catch"][0]["ErrorEquals"] = ["States.ALL"]
    done = _finished(definition)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["Error"] == "States.ExceededToleratedFailureThreshold"
    events = boto3.client("stepfunctions").get_execution_history(
        executionArn=done["executionArn"])["events"]
    assert "MapRunFailed" in [e["type"] for e in events]


def test_a_map_run_that_ended_has_no_running_children(data):
    done = _finished(_map({"ItemReader": JSON_READER, "ToleratedFailurePercentage": 100},
                          processor=FAIL))
    sfn = boto3.client("stepfunctions")
    [listed] = sfn.list_map_runs(executionArn=done["executionArn"])["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    assert described["executionCounts"]["running"] == 0
    assert (described["executionCounts"]["failed"], described["itemCounts"]["failed"]) == (4, 4)


def test_an_s3_inventory_manifest_gives_one_item_per_row_of_its_data_files(data):
    # "ItemReader (Map)", developer guide, S3 inventory manifest: the manifest lists the
    # inventory's gzipped CSV files; each row is an item with the fields of fileSchema, as
    # strings ({"LastModifiedDate": ..., "Bucket": ..., "Size": "3399671", "Key": ...})
    import gzip

    rows = ['"source","csvDataset/titles.csv","3399671","2022-11-16T00:29:32.000Z"',
            '"source","imageDataset/pic.jpg","17","2022-11-16T00:30:00.000Z"']
    data.put_object(Bucket="data", Key="inventory/data/one.csv.gz",
                    Body=gzip.compress((rows[0] + "\n").encode()))
    data.put_object(Bucket="data", Key="inventory/data/two.csv.gz",
                    Body=gzip.compress((rows[1] + "\n").encode()))
    data.put_object(Bucket="data", Key="inventory/manifest.json", Body=json.dumps({
        "sourceBucket": "source", "destinationBucket": "arn:aws:s3:::data",
        "version": "2016-11-30", "creationTimestamp": "1668560400000", "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [{"key": "inventory/data/one.csv.gz", "size": 1, "MD5checksum": "x"},
                  {"key": "inventory/data/two.csv.gz", "size": 1, "MD5checksum": "y"}]}))
    reader = {"Resource": "arn:aws:states:::s3:getObject",
              "ReaderConfig": {"InputType": "MANIFEST"},
              "Parameters": {"Bucket": "data", "Key.$": "$.manifest"}}
    definition = _map({"ItemReader": reader})
    output = _output(definition, {"manifest": "inventory/manifest.json"})
    assert output == [
        {"Bucket": "source", "Key": "csvDataset/titles.csv", "Size": "3399671",
         "LastModifiedDate": "2022-11-16T00:29:32.000Z"},
        {"Bucket": "source", "Key": "imageDataset/pic.jpg", "Size": "17",
         "LastModifiedDate": "2022-11-16T00:30:00.000Z"}]
    # the state machine shows the definition as written (the marker is the parser's only)
    [listed] = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    shown = json.loads(boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=listed["stateMachineArn"])["definition"])
    assert shown["States"]["Fan"]["ItemReader"] == reader
