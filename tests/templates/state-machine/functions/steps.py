import json
import os

import boto3


def check(event, context):
    return {**event, "valid": event["quantity"] > 0}


def price(event, context):
    return {**event, "total": event["quantity"] * 3}


def start(event, context):
    """Starts an order's execution and leaves a receipt on the queue."""
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=os.environ["MACHINE"], input=json.dumps(event))
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE"], MessageBody=json.dumps(
        {"executionArn": execution["executionArn"]}))
    return execution["executionArn"]
