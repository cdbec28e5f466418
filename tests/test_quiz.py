"""The lessons' predict-then-run questions."""

from __future__ import annotations

import pytest

from sandbox.course.quiz import predict
from sandbox.errors import BadArgumentError


def make():
    return predict("What does the third invocation return?", ["1", "3", "an error"], answer=1,
                   why="one environment kept counting.",
                   hints={0: "That is what a new environment would say."})


def test_a_right_answer_says_why():
    box = make()
    box.choices.value = 1
    box.check(None)
    assert "Right. one environment kept counting." in box.result.value


def test_a_wrong_answer_gets_its_hint_not_the_answer():
    box = make()
    box.choices.value = 0
    box.check(None)
    assert "Not quite. That is what a new environment would say." in box.result.value
    assert "kept counting" not in box.result.value
    box.choices.value = 2  # no hint for this one
    box.check(None)
    assert "Not quite. Think again" in box.result.value


def test_checking_with_no_answer_asks_for_one():
    box = make()
    box.check(None)
    assert "Pick an answer first." in box.result.value


def test_it_shows_as_text_where_widgets_are_not_drawn():
    assert repr(make()) == ("Predict: What does the third invocation return?\n"
                            "a) 1\nb) 3\nc) an error")


def test_an_answer_out_of_range_is_refused():
    with pytest.raises(BadArgumentError, match="0 to 1; got 2"):
        predict("?", ["x", "y"], answer=2, why="")
