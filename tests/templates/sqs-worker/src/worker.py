import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    for record in event["Records"]:
        job = json.loads(record["body"])
        if job.get("poison"):
            raise ValueError(f"cannot process job {job['id']}")
        table.put_item(Item={"id": job["id"], "done": True})
