"""Exercise 01's checks, three ways: the solution passes, a blank exercise is not attempted, and
each common wrong answer fails with its own hint."""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox.grading.checks import NotAttempted, find
from sandbox.testing import check_fails, deploy_cell, role

SAVE = "    table.put_item(Item=book)\n    return f\"{book['title']} saved!\"\n"
VALIDATE = ("    for key in ('isbn', 'title'):\n        if key not in book:\n"
            "            return {'statusCode': 400, 'error': f'missing {key}'}\n")
HEAD = ("import logging\nimport boto3\nlogger = logging.getLogger()\n{level}"
        "table = boto3.resource('dynamodb').Table('{table}')\n"
        "def lambda_handler(book, context):\n")
LEVEL = "logger.setLevel(logging.INFO)\n"
LOG = "    logger.info('Saved %s', book['isbn'])\n"
SOLUTION = HEAD.format(level=LEVEL, table="library") + VALIDATE + LOG + SAVE
DEADLINE = ("def lambda_handler(event, context):\n    return {{'request_id': {rid}, "
            "'seconds_left': {left}}}\n")
RIGHT_DEADLINE = DEADLINE.format(rid="context.aws_request_id",
                                 left="int(context.get_remaining_time_in_millis() / 1000)")


LIBRARY_ROLE = {"Version": "2012-10-17", "Statement": [  # as the exercise's first cell makes it
    {"Effect": "Allow", "Resource": "*", "Action": [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]},
    {"Effect": "Allow", "Action": "dynamodb:PutItem",
     "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/library"}]}


@pytest.fixture
def library(sb):
    """The exercise's first cell: the library table and library-role."""
    boto3.client("dynamodb").create_table(
        TableName="library", KeySchema=[{"AttributeName": "isbn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "isbn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    role("library-role", *LIBRARY_ROLE["Statement"], policy_name="library-table")
    return sb


def deploy_add_book(source: str) -> str:
    """Deploy add-book as the task's cell does: %%lambda add-book --role library-role."""
    return deploy_cell("add-book", source,
                       Role="arn:aws:iam::123456789012:role/library-role")


_fails = check_fails


def test_the_solution_passes_every_check(library):
    deploy_add_book(SOLUTION)
    deploy_cell("deadline", RIGHT_DEADLINE, Timeout=10)
    for name in ("add_book_saves", "add_book_validates", "deadline_reads_its_context",
                 "add_book_logs"):
        find(f"lambda_anatomy.{name}")()


@pytest.mark.parametrize("name", ["add_book_saves", "add_book_validates",
                                  "deadline_reads_its_context", "add_book_logs"])
def test_nothing_deployed_is_not_attempted(library, name):
    _fails(f"lambda_anatomy.{name}", "no function named", NotAttempted)


def test_no_table_is_not_attempted(sb):
    deploy_cell("add-book", SOLUTION)
    _fails("lambda_anatomy.add_book_saves", "no table 'library'", NotAttempted)


@pytest.mark.parametrize("source, hint", [
    ("import boto3\ndef lambda_handler(book, context):\n    return f\"{book['title']} saved!\"\n",
     "not in the 'library' table"),
    (HEAD.format(level="", table="library") + "    table.put_item(Item=book)\n"
     "    return {'saved': book['title']}\n", "title followed by ' saved!'"),
    (HEAD.format(level="", table="books") + SAVE,
     r"may put items into the 'library' table and nothing else\. Check the table's name"),
    (HEAD.format(level="", table="library") +
     "    table.put_item(Item={'isbn': book['isbn']})\n    return 'ok'\n", "all three attributes"),
])
def test_add_book_saves_wrong_answers(library, source, hint):
    deploy_add_book(source)
    _fails("lambda_anatomy.add_book_saves", hint)


@pytest.mark.parametrize("source, hint", [
    (HEAD.format(level="", table="library") + SAVE, "reads a key the event does not have"),
    (HEAD.format(level="", table="library") + "    table.put_item(Item=book)\n"
     "    return f\"{book.get('title')} saved!\"\n", "was saved"),
    (HEAD.format(level="", table="library") +
     "    if 'title' not in book:\n        return 'missing title'\n" + SAVE,
     "should get the response"),
    (HEAD.format(level="", table="library") +
     "    if 'title' not in book:\n        return {'statusCode': 400, 'error': 'missing title'}"
     "\n" + SAVE, "DynamoDB refused"),
])
def test_add_book_validates_wrong_answers(library, source, hint):
    deploy_add_book(source)
    _fails("lambda_anatomy.add_book_validates", hint)


@pytest.mark.parametrize("source, timeout, hint", [
    (RIGHT_DEADLINE, 3, "less time than a 10-second timeout"),
    (DEADLINE.format(rid="'abc'", left="int(context.get_remaining_time_in_millis() / 1000)"),
     10, "this invocation's ID"),
    (DEADLINE.format(rid="context.aws_request_id", left="context.get_remaining_time_in_millis()"),
     10, "divide by 1000"),
    (DEADLINE.format(rid="context.aws_request_id",
                     left="context.get_remaining_time_in_millis() / 1000"), 10, "whole number"),
    ("def lambda_handler(event, context):\n    return {'id': context.aws_request_id}\n", 10,
     "exactly two keys"),
])
def test_deadline_wrong_answers(library, source, timeout, hint):
    deploy_cell("deadline", source, Timeout=timeout)
    _fails("lambda_anatomy.deadline_reads_its_context", hint)


def test_a_role_that_may_not_write_the_table_says_so(library):
    deploy_cell("add-book", SOLUTION)  # no --role: sandbox-test-role writes logs only
    failure = _fails("lambda_anatomy.add_book_saves", "deploy with %%lambda add-book --role "
                                                      "library-role")
    assert "not authorized to perform: dynamodb:PutItem on resource: " \
           "arn:aws:dynamodb:us-east-1:123456789012:table/library" in failure.found


def test_a_table_that_does_not_exist_says_so_when_the_role_may_use_it(library):
    boto3.client("iam").put_role_policy(
        RoleName="library-role", PolicyName="any-table", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}]}))
    deploy_add_book(HEAD.format(level="", table="books") + SAVE)
    _fails("lambda_anatomy.add_book_saves", "table that does not exist")


@pytest.mark.parametrize("source, hint", [
    (HEAD.format(level=LEVEL, table="library") + VALIDATE +
     "    print('Saved', book['isbn'])\n" + SAVE, "not from the logging module"),
    (HEAD.format(level="", table="library") + VALIDATE + LOG + SAVE, "stays at WARNING"),
])
def test_add_book_logs_wrong_answers(library, source, hint):
    deploy_add_book(source)
    _fails("lambda_anatomy.add_book_logs", hint)
