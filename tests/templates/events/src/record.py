import json
import os

import boto3
from greeting import greet  # from the layer

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    if "Records" in event:  # SNS
        source = "sns:" + event["Records"][0]["Sns"]["Message"]
    elif "detail-type" in event:  # EventBridge
        source = "events:" + event["detail-type"]
    else:  # an HTTP API's payload format 2.0
        source = "http:" + event["rawPath"]
    table.put_item(Item={"id": source})
    return {"statusCode": 200, "body": json.dumps({"message": greet(source)})}
