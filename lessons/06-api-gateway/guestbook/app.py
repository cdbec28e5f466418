import json
import os
import uuid

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    if event["routeKey"] == "POST /messages":
        message = json.loads(event["body"])
        item = {"id": str(uuid.uuid4()), "name": message["name"], "text": message["text"]}
        table.put_item(Item=item)
        return {"statusCode": 201, "headers": {"Content-Type": "application/json"},
                "body": json.dumps(item)}
    items = table.scan()["Items"]
    return {"messages": sorted((item["name"], item["text"]) for item in items)}
