"""Predict, then run: a question answered in the notebook, with feedback at once.

A lesson asks what the next cell will show before the learner runs it (committing to an answer
is what makes the result stick), in the spirit of Data 8's inline checks::

    from sandbox.course.quiz import predict
    predict("Three invocations in a row: what does the third return?",
            ["1", "3", "an error"], answer=1,
            why="One warm environment served all three; its counter kept counting.",
            hints={0: "That would be true if the module ran again for every invocation."})

Nothing is graded or recorded: it is practice. Where widgets are not drawn (a terminal, nbval),
the question shows as text.
"""

from __future__ import annotations

import html
from typing import Any

from ..errors import BadArgumentError


def feedback(options: list[str], answer: int, why: str, hints: dict[int, str] | None,
             choice: int | None) -> str:
    """What the learner reads after pressing Check."""
    if choice is None:
        return "Pick an answer first."
    if choice == answer:
        return f"Right. {why}"
    hint = (hints or {}).get(choice, "")
    return (f"Not quite. {hint} Think again, or run the next cell and see."
            .replace("  ", " "))


def predict(question: str, options: list[str], answer: int, why: str,
            hints: dict[int, str] | None = None) -> Any:
    """A multiple-choice question with a Check button; answer is the index of the right
    option."""
    if not 0 <= answer < len(options):
        raise BadArgumentError(f"answer is the index of the right option, 0 to "
                               f"{len(options) - 1}; got {answer}")
    import ipywidgets as widgets  # imported here: `import sandbox` stays light

    letters = "abcdefgh"
    labels = [f"{letters[i]}) {option}" for i, option in enumerate(options)]
    choices = widgets.RadioButtons(options=[(label, i) for i, label in enumerate(labels)],
                                   value=None, layout=widgets.Layout(width="auto"))
    result = widgets.HTML()
    button = widgets.Button(description="Check", button_style="info")

    def check(_: Any) -> None:
        text = feedback(options, answer, why, hints, choices.value)
        colour = "#2e8540" if choices.value == answer else "#7a1f1b"
        result.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    button.on_click(check)
    text = "\n".join([f"Predict: {question}", *labels])

    class Prediction(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no types
        def __repr__(self) -> str:  # where widgets are not drawn
            return text

    box = Prediction([widgets.HTML(f"<b>Predict:</b> {html.escape(question)}"), choices,
                      button, result])
    box.check = check  # for tests: what pressing the button does
    box.choices, box.result = choices, result
    return box
