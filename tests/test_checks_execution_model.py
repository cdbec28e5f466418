"""Exercise 02's checks, three ways: the solution passes, a blank exercise is not attempted, and
each common wrong answer fails with its own hint."""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.testing import check_fails, deploy_cell, role

COUNTER = ("cold_start = True\ninvocations = 0\n"
           "def lambda_handler(event, context):\n"
           "    global cold_start, invocations\n"
           "    invocations += 1\n"
           "    answer = {'cold_start': cold_start, 'invocations': invocations}\n"
           "    cold_start = False\n"
           "    return answer\n")
DIVIDE = ("def lambda_handler(event, context):\n"
          "    if event['b'] == 0:\n"
          "        raise ValueError('cannot divide by zero')\n"
          "    return {'result': event['a'] / event['b']}\n")
WORKER = ("import time\n"
          "def lambda_handler(event, context):\n"
          "    done = 0\n"
          "    for _ in range({items}):\n"
          "{guard}"
          "        time.sleep(event['seconds_per_item'])\n"
          "        done += 1\n"
          "    return {{'done': done, 'left': event['items'] - done}}\n")
GUARD = "        if context.get_remaining_time_in_millis() {test} 1000:\n            break\n"
RIGHT_WORKER = WORKER.format(items="event['items']", guard=GUARD.format(test="<"))
ORDER_HEAD = ("import boto3\n"
              "table = boto3.resource('dynamodb').Table('{table}')\n"
              "seen = set()\n"
              "def lambda_handler(event, context):\n"
              "    order_id = event['order_id']\n")
CONDITIONAL = ("    try:\n"
               "        table.put_item(Item=event, "
               "ConditionExpression='attribute_not_exists(order_id)')\n"
               "    except table.meta.client.exceptions.ConditionalCheckFailedException:\n"
               "        return {'order_id': order_id, 'recorded': False}\n"
               "    return {'order_id': order_id, 'recorded': True}\n")
RECORD_ORDER = ORDER_HEAD.format(table="orders") + CONDITIONAL
CHECKS = ["counter_counts_warm_starts", "divide_raises", "batch_worker_stops_in_time",
          "batch_worker_capped", "record_order_is_idempotent"]


ORDERS_ROLE = {"Version": "2012-10-17", "Statement": [  # as the exercise's first cell makes it
    {"Effect": "Allow", "Resource": "*", "Action": [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]},
    {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
     "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}]}


def deploy_record_order(source: str) -> str:
    """Deploy record-order as the task's cell does: %%lambda record-order --role orders-role."""
    return deploy_cell("record-order", source,
                       Role="arn:aws:iam::123456789012:role/orders-role")


@pytest.fixture
def orders(sb):
    """The exercise's first cell: the orders table and orders-role."""
    boto3.client("dynamodb").create_table(
        TableName="orders", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    role("orders-role", *ORDERS_ROLE["Statement"], policy_name="orders-table")
    return sb


def _fails(check: str, hint: str, cls=CheckFailed):
    return check_fails(f"execution_model.{check}", hint, cls)


def test_the_solution_passes_every_check(orders):
    deploy_cell("counter", COUNTER)
    deploy_cell("divide", DIVIDE)
    deploy_cell("batch-worker", RIGHT_WORKER, Timeout=2)
    boto3.client("lambda").put_function_concurrency(FunctionName="batch-worker",
                                                    ReservedConcurrentExecutions=2)
    deploy_record_order(RECORD_ORDER)
    for name in CHECKS:
        find(f"execution_model.{name}")()


def test_the_counter_check_passes_whatever_the_environment_saw_before(sb):
    deploy_cell("counter", COUNTER)
    for _ in range(4):
        boto3.client("lambda").invoke(FunctionName="counter")
    find("execution_model.counter_counts_warm_starts")()


@pytest.mark.parametrize("name", CHECKS)
def test_nothing_deployed_is_not_attempted(orders, name):
    _fails(name, "no function named", NotAttempted)


def test_no_orders_table_is_not_attempted(sb):
    deploy_cell("record-order", RECORD_ORDER)
    _fails("record_order_is_idempotent", "no table 'orders'", NotAttempted)


def test_a_placeholder_handler_is_not_attempted(sb):
    deploy_cell("counter", "def lambda_handler(event, context):\n    raise NotImplementedError()\n")
    _fails("counter_counts_warm_starts", "still raises NotImplementedError", NotAttempted)


@pytest.mark.parametrize("source, hint", [
    ("def lambda_handler(event, context):\n    invocations = 0\n    invocations += 1\n"
     "    return {'cold_start': True, 'invocations': invocations}\n", "starts again at 1"),
    (COUNTER.replace("    cold_start = False\n", ""), "True on warm invocations too"),
    ("invocations = 0\ndef lambda_handler(event, context):\n    global invocations\n"
     "    invocations += 1\n"
     "    return {'cold_start': invocations == 0, 'invocations': invocations}\n",
     "the first invocation of a new environment is a cold start"),
    ("def lambda_handler(event, context):\n    return {'cold': True, 'count': 1}\n",
     "exactly two keys"),
])
def test_counter_wrong_answers(sb, source, hint):
    deploy_cell("counter", source)
    _fails("counter_counts_warm_starts", hint)


def test_a_forgotten_global_is_pointed_at_not_only_traced(sb):
    # a plain Python mistake reads like the behavioural hints: what went wrong, where, and what
    # to try; the traceback stays below it
    deploy_cell("counter", COUNTER.replace("    global cold_start, invocations\n", ""))
    failure = _fails("counter_counts_warm_starts", "`global invocations`")
    assert "UnboundLocalError at line 4 of lambda_function.py" in failure.hint
    assert "(`invocations += 1`)" in failure.hint
    assert failure.details.startswith("Traceback from the function:")


@pytest.mark.parametrize("source, hint", [
    ("def lambda_handler(event, context):\n    return {'n': undefined_name}\n",
     "NameError at line 2"),
    ("def lambda_handler(event, context):\n    return {'n': event['missing']}\n",
     "looked up the key 'missing'"),
])
def test_other_python_mistakes_get_a_hint(sb, source, hint):
    deploy_cell("counter", source)
    _fails("counter_counts_warm_starts", hint)


def test_a_count_that_outlives_the_environment_fails(sb, tmp_path):
    # A file outside the environment's temporary directory is shared by every environment
    # without bubblewrap (with it, as on AWS, nothing outside /tmp is writable).
    sb.admin.use_isolation("process")
    shared = tmp_path / "count.txt"
    deploy_cell("counter", "import os\ncold_start = True\n"
                       "def lambda_handler(event, context):\n"
                       "    global cold_start\n"
                       f"    path = {str(shared)!r}\n"
                       "    count = int(open(path).read()) + 1 if os.path.exists(path) else 1\n"
                       "    open(path, 'w').write(str(count))\n"
                       "    answer = {'cold_start': cold_start, 'invocations': count}\n"
                       "    cold_start = False\n"
                       "    return answer\n")
    boto3.client("lambda").invoke(FunctionName="counter")
    _fails("counter_counts_warm_starts", "went on from where it was")


@pytest.mark.parametrize("source, hint", [
    ("def lambda_handler(event, context):\n    if event['b'] == 0:\n"
     "        return {'error': 'cannot divide by zero'}\n"
     "    return {'result': event['a'] / event['b']}\n", "returned value is a success"),
    ("def lambda_handler(event, context):\n    return {'result': event['a'] / event['b']}\n",
     "ZeroDivisionError reached the caller"),
    ("import sys\ndef lambda_handler(event, context):\n    if event['b'] == 0:\n"
     "        sys.exit(1)\n    return {'result': event['a'] / event['b']}\n",
     "ended its own process"),
    (DIVIDE.replace("cannot divide by zero", "b is zero"), "exactly 'cannot divide by zero'"),
    (DIVIDE.replace("ValueError", "RuntimeError"), "should raise ValueError"),
    (DIVIDE.replace("event['a'] / event['b']", "event['a'] // event['b']"),
     r"should return \{'result': a / b\}"),
])
def test_divide_wrong_answers(sb, source, hint):
    deploy_cell("divide", source)
    _fails("divide_raises", hint)


@pytest.mark.parametrize("source, timeout, hint", [
    (WORKER.format(items="event['items']", guard=""), 2, "ran out of time"),
    (WORKER.format(items="event['items']", guard=GUARD.format(test=">")), 2,
     "stopped before the first item"),
    (RIGHT_WORKER, 3, "2-second timeout"),
    (WORKER.format(items="event['items'] - 1", guard=GUARD.format(test="<")), 2,
     "should be done whole"),
    (RIGHT_WORKER.replace("event['items'] - done", "event['items']"), 2, "done \\+ left"),
    (RIGHT_WORKER.replace("'left'", "'remaining'"), 2, "exactly two keys"),
    # milliseconds read as seconds: it runs past the timeout, which Lambda enforces exactly
    (WORKER.format(items="event['items']", guard=GUARD.format(test="<").replace("1000", "1")),
     2, "ran out of time"),
    # half the margin: more items than fit before the last second
    (WORKER.format(items="event['items']", guard=GUARD.format(test="<").replace("1000", "500")),
     2, "fewer than 1000 ms left"),
])
def test_batch_worker_wrong_answers(sb, source, timeout, hint):
    deploy_cell("batch-worker", source, Timeout=timeout)
    _fails("batch_worker_stops_in_time", hint)


def test_batch_worker_without_reserved_concurrency_is_not_attempted(sb):
    deploy_cell("batch-worker", RIGHT_WORKER, Timeout=2)
    _fails("batch_worker_capped", "no reserved concurrency yet", NotAttempted)


@pytest.mark.parametrize("reserved, hint", [(0, "stops the function"), (5, "reserve 2")])
def test_batch_worker_capped_wrong_answers(sb, reserved, hint):
    deploy_cell("batch-worker", RIGHT_WORKER, Timeout=2)
    boto3.client("lambda").put_function_concurrency(FunctionName="batch-worker",
                                                    ReservedConcurrentExecutions=reserved)
    _fails("batch_worker_capped", hint)


@pytest.mark.parametrize("source, hint", [
    (ORDER_HEAD.format(table="orders") + "    table.put_item(Item=event)\n"
     "    return {'order_id': order_id, 'recorded': True}\n", "recorded a second time"),
    (ORDER_HEAD.format(table="orders") + "    if order_id in seen:\n"
     "        return {'order_id': order_id, 'recorded': False}\n"
     "    seen.add(order_id)\n    table.put_item(Item=event)\n"
     "    return {'order_id': order_id, 'recorded': True}\n", "module state"),
    (ORDER_HEAD.format(table="orders") +
     "    found = 'Item' in table.get_item(Key={'order_id': order_id})\n"
     "    table.put_item(Item=event)\n"
     "    return {'order_id': order_id, 'recorded': not found}\n", "overwrote the stored order"),
    (ORDER_HEAD.format(table="orders") + "    new = order_id not in seen\n"
     "    seen.add(order_id)\n    return {'order_id': order_id, 'recorded': new}\n",
     "not in the 'orders' table"),
    (ORDER_HEAD.format(table="order") + CONDITIONAL,
     r"may get and put items in the 'orders' table and nothing else\. Check the table's name"),
    (ORDER_HEAD.format(table="orders") + CONDITIONAL.replace("'recorded': True", "'new': True"),
     "should store it and return"),
])
def test_record_order_wrong_answers(orders, source, hint):
    deploy_record_order(source)
    _fails("record_order_is_idempotent", hint)


def test_a_role_that_may_not_use_the_table_says_so(orders):
    deploy_cell("record-order", RECORD_ORDER)  # no --role: sandbox-test-role writes logs only
    failure = check_fails("execution_model.record_order_is_idempotent",
                          "deploy with %%lambda record-order --role orders-role")
    assert "not authorized to perform: dynamodb:PutItem on resource: " \
           "arn:aws:dynamodb:us-east-1:123456789012:table/orders" in failure.found


def test_a_table_that_does_not_exist_says_so_when_the_role_may_use_it(orders):
    boto3.client("iam").put_role_policy(
        RoleName="orders-role", PolicyName="any-table", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}]}))
    deploy_record_order(ORDER_HEAD.format(table="order") + CONDITIONAL)
    _fails("record_order_is_idempotent", "table that does not exist")
