"""Checks for exercises/00-welcome.ipynb: a first function, its defaults, its logs."""

from __future__ import annotations

from ..grading.checks import CheckFailed, check_function
from ..grading.probes import answered, expect_equal, require_function, unique

HOW = "Deploy it with the %%lambda cell of the exercise."


@check_function("welcome.greeter_answers")
def greeter_answers() -> None:
    """greeter returns {"message": "Hello, <name>!"} for the name in the event."""
    require_function("greeter", HOW)
    name = unique("Grace")
    payload = answered("greeter", {"name": name}).payload
    expected = {"message": f"Hello, {name}!"}
    if isinstance(payload, str):
        raise CheckFailed("the handler returned a string; return a dict with a 'message' key "
                          "(Lambda turns it into a JSON object).", expected=expected,
                          found=payload)
    if isinstance(payload, dict) and "message" not in payload:
        raise CheckFailed("the result has no 'message' key.", expected=expected, found=payload)
    if isinstance(payload, dict) and name not in str(payload.get("message")):
        raise CheckFailed("the message does not contain the name from the event: read it "
                          "with event['name'] rather than writing a name in the code.",
                          expected=expected, found=payload)
    expect_equal(payload, expected, "almost: compare the message letter by letter "
                                    "(capital H, the comma, the exclamation mark).")


@check_function("welcome.greeter_defaults")
def greeter_defaults() -> None:
    """Without a name in the event, greeter greets the world."""
    require_function("greeter", HOW)
    result = answered("greeter", {}, expected={"message": "Hello, world!"}, hints={
        "KeyError": "invoked with {} the function raised KeyError: an event does not always "
                    "carry every key. event.get('name', 'world') gives a default."})
    expect_equal(result.payload, {"message": "Hello, world!"},
                 "with no 'name' in the event the greeting should be 'Hello, world!'.")


@check_function("welcome.shout_logs")
def shout_logs() -> None:
    """shout prints its text in capitals and returns its length."""
    require_function("shout", "Deploy it with the %%lambda shout cell of the exercise.")
    text = unique("quiet")
    result = answered("shout", {"text": text}, hints={
        "KeyError": "the function looks for a key the event does not have: the text is in "
                    "event['text']."})
    if result.payload == text.upper():
        raise CheckFailed("the function returns the capitalised text; it should print it, "
                          "and return the number of characters.", expected=len(text),
                          found=result.payload)
    expect_equal(result.payload, len(text), "the function should return len(event['text']).")
    wanted = text.upper()
    lines = [line.rstrip("\n") for line in result.log.split("\n") if line]
    if wanted in lines:
        return
    if text in result.log:
        raise CheckFailed("the log shows the text, but not in capital letters: print "
                          "text.upper().", expected=wanted, found=text)
    raise CheckFailed("this invocation's log has no line with the text in capitals. Print it "
                      "inside the handler: a print at module level runs only on a cold start.",
                      expected=wanted, found="no such line in the invocation's log")
