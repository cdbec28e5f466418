"""Markdown cells that JupyterLab would typeset as formulas by accident.

JupyterLab hands a markdown cell's math to MathJax before rendering the Markdown: a pair of
unescaped ``$`` in one paragraph (the text between them becomes a formula, ``$0.20 ... $40``
included), ``$$``, ``\\(``, ``\\[`` and ``\\begin{...}``. Code spans and fenced code blocks are
left alone. The course writes prices, so each ``$`` of an amount is written ``\\$``; a single
``$`` in a paragraph would render, but the test asks for the escape there too only when a second
one makes a pair, as MathJax does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for folder in ("lessons", "solutions", "exercises")
                   for p in (ROOT / folder).glob("*.ipynb"))

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
DELIMITERS = re.compile(r"(?<!\\)(\$\$|\\\(|\\\[|\\begin\{)")


def math_in(markdown: str) -> list[str]:
    """The paragraphs of a markdown text that MathJax would typeset (code left out)."""
    text = FENCE.sub("", markdown)
    text = CODE_SPAN.sub("", text)
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        # an escaped backslash cannot escape the dollar after it: take pairs out first
        bare = paragraph.replace("\\\\", "")
        if DELIMITERS.search(bare) or len(UNESCAPED_DOLLAR.findall(bare)) >= 2:
            found.append(paragraph.strip())
    return found


@pytest.mark.parametrize("text, formulas", [
    ("Requests cost $0.20 a million and $0.0000166667 a GB-second.", 1),
    ("$112 a month\nthen, $40 now", 1),
    ("\\$112 a month then, \\$40 now", 0),
    ("one dollar sign: $5", 0),
    ("$5 here\n\nand $6 in another paragraph", 0),
    ("a `$x` and `$y` in code spans", 0),
    ("```sh\necho $HOME $PATH\n```", 0),
    ("display math $$x$$", 1),
    ("inline \\(x\\)", 1),
    ("a price \\\\$5 and \\\\$6 (the backslash is itself escaped)", 1),
    ("| x86 | $0.20 |\n| arm | $0.20 |", 1),
])
def test_the_detector(text, formulas):
    assert len(math_in(text)) == formulas


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_accidental_formulas(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    problems = [f"cell {cell.get('id')}: {paragraph[:200]!r}"
                for cell in notebook["cells"] if cell["cell_type"] == "markdown"
                for paragraph in math_in("".join(cell["source"]))]
    assert not problems, (
        f"{path.relative_to(ROOT)}: JupyterLab would typeset these as formulas; write each "
        "dollar sign of an amount as \\$ (and keep shell variables in code spans):\n"
        + "\n".join(problems))


LINK = re.compile(r"\]\(([^)\s#]+\.ipynb)(?:#[^)]*)?\)")
# Lesson 09 is being written (issue 17, item 1.11): links to it may go ahead of it.
COMING = {"09-serverless-services.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_links_to_notebooks_lead_somewhere(path):
    """A link to another notebook (a lesson, an exercise) names one that exists, relative to
    the notebook, as JupyterLab resolves it."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    broken = [f"cell {cell.get('id')}: {target}"
              for cell in notebook["cells"] if cell["cell_type"] == "markdown"
              for target in LINK.findall("".join(cell["source"]))
              if not target.startswith(("http:", "https:")) and Path(target).name not in COMING
              and not (path.parent / target).resolve().exists()]
    assert not broken, f"{path.relative_to(ROOT)} links to notebooks that do not exist: {broken}"
