def check(event, context):
    return {**event, "valid": event["quantity"] > 0}


def price(event, context):
    return {**event, "total": event["quantity"] * 3}
