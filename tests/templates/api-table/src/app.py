import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    item_id = event["pathParameters"]["id"]
    if event["httpMethod"] == "PUT":
        table.put_item(Item={"id": item_id, **json.loads(event["body"])})
        return {"statusCode": 201, "body": json.dumps({"id": item_id})}
    found = table.get_item(Key={"id": item_id}).get("Item")
    if found is None:
        return {"statusCode": 404, "body": json.dumps({"message": "no such item"})}
    return {"statusCode": 200, "body": json.dumps(found)}
