import json


def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps({"message": "hello world",
                            "alias": context.invoked_function_arn.rsplit(":", 1)[-1]}),
    }
