"""Checks for exercises/01-lambda-anatomy.ipynb: a handler that saves books, validates its
event, reads its context and logs the Lambda way."""

from __future__ import annotations

import re
from typing import Any

from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import (
    Invocation,
    answered,
    expect_equal,
    require_function,
    require_table,
    unique,
)

TABLE = "library"
ROLE = "library-role"  # made by the exercise's first cell: PutItem on the table, and logs
HOW = "Deploy it with the %%lambda cell of the task."
DENIED = "(AccessDeniedException)"  # in the message of boto3's ClientError for a refusal
REFUSED = (f"DynamoDB refused the function's put_item: the function runs as its execution role, "
           f"{ROLE}, which may put items into the {TABLE!r} table and nothing else. Check the "
           f"table's name, and deploy with %%lambda add-book --role {ROLE}, as the task's cell "
           "does.")


def _table() -> Any:  # a boto3 DynamoDB Table
    return require_table(TABLE)


def _book() -> dict[str, str]:
    return {"isbn": unique("978"), "title": unique("Dune"), "author": "Frank Herbert"}


def _saving(book: dict[str, str]) -> Invocation:
    """add-book's answer to a book; when IAM refused its role, a failure that says so. On AWS a
    refused action answers AccessDeniedException even on a table that does not exist
    (authorization comes first), and boto3 raises it in the handler as a plain ClientError."""
    try:
        return answered("add-book", book, hints={
            "ResourceNotFoundException": f"the function writes to a table that does not exist: "
                                         f"the table is called {TABLE!r}."})
    except CheckFailed as failure:
        if isinstance(failure, NotAttempted) or DENIED not in failure.hint:
            raise
        refusal = failure.hint[max(failure.hint.find("An error occurred"), 0):]
        raise CheckFailed(REFUSED, expected=f"{book['title']} saved!", found=refusal,
                          details=failure.details) from None


@check_function("lambda_anatomy.add_book_saves")
def add_book_saves() -> None:
    """add-book puts the book in the library table and answers "<title> saved!"."""
    table = _table()
    require_function("add-book", HOW)
    book = _book()
    result = _saving(book)
    stored = table.get_item(Key={"isbn": book["isbn"]}).get("Item")
    if stored is None:
        raise CheckFailed(f"the book is not in the {TABLE!r} table after the invocation: call "
                          "put_item(Item=event) on the table inside the handler.",
                          expected=book, found="no item with that isbn")
    expect_equal(stored, book, "the item stored should be the book as it came in the event, "
                               "with all three attributes.")
    expect_equal(result.payload, f"{book['title']} saved!",
                 "the handler should return the title followed by ' saved!', as a string "
                 "(like the slides' book.getName() + \" saved!\").")


@check_function("lambda_anatomy.add_book_validates")
def add_book_validates() -> None:
    """add-book answers 400 for a book without isbn or title, and stores nothing."""
    table = _table()
    require_function("add-book", HOW)
    before = table.scan(Select="COUNT")["Count"]
    hints = {"KeyError": "the handler reads a key the event does not have: check for 'isbn' "
                         "and 'title' first, and return the error response.",
             "ClientError": "the handler wrote a book with no isbn, and DynamoDB refused it "
                            "(every item needs its partition key): check the event before "
                            "put_item."}
    for missing, event in (("title", {"isbn": unique("979")}),
                           ("isbn", {"title": unique("Emma")})):
        expected = {"statusCode": 400, "error": f"missing {missing}"}
        payload = answered("add-book", event, hints=hints, expected=expected).payload
        if isinstance(payload, str) and "saved" in payload:
            raise CheckFailed(f"a book without {missing} was saved: validate the event before "
                              "writing to the table.", expected=expected, found=payload)
        expect_equal(payload, expected, f"a book without {missing} should get the response "
                                        f"{{'statusCode': 400, 'error': 'missing {missing}'}}.")
    after = table.scan(Select="COUNT")["Count"]
    if after != before:
        raise CheckFailed("an invalid book was written to the table anyway: return the error "
                          "before put_item.", expected=f"{before} items", found=f"{after} items")


@check_function("lambda_anatomy.deadline_reads_its_context")
def deadline_reads_its_context() -> None:
    """deadline, configured with a 10-second timeout, reports its request ID and time left."""
    require_function("deadline", HOW)
    result = answered("deadline", {})
    payload, request_id = result.payload, result.request_id
    if not isinstance(payload, dict) or set(payload) != {"request_id", "seconds_left"}:
        raise CheckFailed("return a dict with exactly two keys, 'request_id' and "
                          "'seconds_left'.", expected=["request_id", "seconds_left"],
                          found=sorted(payload) if isinstance(payload, dict) else payload)
    expect_equal(payload["request_id"], request_id,
                 "request_id should be this invocation's ID: context.aws_request_id.")
    left = payload["seconds_left"]
    if not isinstance(left, int):
        raise CheckFailed("seconds_left should be a whole number of seconds: int(...) of the "
                          "milliseconds / 1000.", expected="an int", found=left)
    if left < 7:
        raise CheckFailed("the function has less time than a 10-second timeout gives: set "
                          "Timeout=10 with update_function_configuration (the default is 3 "
                          "seconds; running the %%lambda cell again resets it).",
                          expected="about 9 seconds", found=left)
    if left > 10:
        raise CheckFailed("more seconds than the timeout allows: get_remaining_time_in_millis() "
                          "gives milliseconds; divide by 1000.", expected="about 9", found=left)


@check_function("lambda_anatomy.add_book_logs")
def add_book_logs() -> None:
    """add-book logs "Saved <isbn>" at INFO level with the logging module."""
    _table()
    require_function("add-book", HOW)
    book = _book()
    result = _saving(book)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    if re.search(rf"\[INFO\]\t{stamp}\t[0-9a-f-]{{36}}\tSaved {book['isbn']}\n", result.log):
        return
    if f"Saved {book['isbn']}" in result.log:
        raise CheckFailed("the line is there, but not from the logging module at INFO level: "
                          "use logger.info(...) rather than print, so that the line carries its "
                          "level, time and request ID.", expected=f"[INFO] ... Saved "
                          f"{book['isbn']}", found="a plain printed line")
    raise CheckFailed("the invocation's log has no 'Saved <isbn>' line. On Lambda the root "
                      "logger stays at WARNING: call logger.setLevel(logging.INFO) before "
                      "logger.info(...) shows.", expected=f"Saved {book['isbn']}",
                      found="no such line")
