"""Every notebook of the course, run in JupyterLab in a real browser, as a learner runs it.

nbval proves what the kernel prints; it cannot see what the page shows. A manual run in Chromium
found MathJax turning prices into formulas, a widget's labels cut, diagrams two screens tall and
Run All stopping before the checks. So, for each lesson: Run All from the menu; no error output
except in cells tagged `raises-exception` (JupyterLab's own tag for a cell expected to raise: Run
All goes on past it); every Mermaid diagram drawn as an SVG no taller than the screen; no
markdown text typeset as a formula; the pricing calculator answering a slider with a new bill and
chart; the Step Functions live view drawing the execution more than once as it moves. For each
exercise: Run All reaches every check cell, and each, with the tasks left blank, answers "not
attempted yet". A failure keeps screenshots in .test-artifacts/browser/<test>/.

The notebooks are found when the tests are collected: a lesson or exercise added later is tested
without a change here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from labdriver import CANARY_ID, KERNEL_IDLE, ROOT, Lab, Notebook, keep_evidence

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSONS = sorted(path.name for path in (ROOT / "lessons").glob("*.ipynb"))
EXERCISES = sorted(path.name for path in (ROOT / "exercises").glob("*.ipynb"))
SCREEN_HEIGHT = 900  # the page's height: a drawing taller than this is more than one screen
MERMAID_FENCE = re.compile(r"^```mermaid\s*$", re.M)
NOT_ATTEMPTED = "not attempted yet"

Problems = list[tuple[int, str]]  # (cell index, what is wrong)


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _output_text(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(str(output["data"].get("text/plain", "")))
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


def _errors_and_unrun(saved: dict[str, Any]) -> Problems:
    """Error outputs outside cells tagged raises-exception, and code cells Run All never ran."""
    problems: Problems = []
    for index, cell in enumerate(saved["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("execution_count") is None:
            problems.append((index, "never ran: Run All stopped before this cell"))
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" and "raises-exception" not in _tags(cell):
                problems.append((index, f"error output {output['ename']}: {output['evalue']}"))
    return problems


def _rendering(notebook: Notebook, saved: dict[str, Any]) -> Problems:
    """What the page shows: formulas MathJax made, Mermaid drawings, widgets that failed."""
    problems: Problems = []
    cells = saved["cells"]
    for shown in notebook.inspect():
        index = shown["index"]
        cell = cells[index]
        if cell.get("id") == CANARY_ID:
            continue
        for formula in shown["formulas"]:
            problems.append((index, f"MathJax typeset markdown as a formula in: {formula!r} "
                                    "(write each $ of a pair as \\\\$: tests/test_markdown.py)"))
        expected = len(MERMAID_FENCE.findall(cell["source"])) if (
            cell["cell_type"] == "markdown") else 0
        if cell["cell_type"] == "markdown" and len(shown["mermaid"]) < expected:
            problems.append((index, f"{expected} Mermaid diagrams in the source, "
                                    f"{len(shown['mermaid'])} drawn"))
        if shown["unrendered_mermaid"]:
            problems.append((index, "a mermaid code block shown as code, not drawn"))
        for drawing in shown["mermaid"]:
            if drawing["warning"]:
                problems.append((index, f"Mermaid could not draw a diagram: {drawing['warning']}"))
            elif not drawing["drawn"]:
                problems.append((index, "a Mermaid diagram is not drawn as an SVG"))
            elif drawing["height"] > SCREEN_HEIGHT:
                problems.append((index, f"a Mermaid diagram is {drawing['height']:.0f} px tall, "
                                        f"more than a screen ({SCREEN_HEIGHT} px)"))
        for error in shown["widget_errors"]:
            problems.append((index, f"an output failed to display: {error}"))
    return problems


def _calling(saved: dict[str, Any], call: str) -> list[int]:
    return [index for index, cell in enumerate(saved["cells"])
            if cell["cell_type"] == "code" and call in cell["source"]]


def _calculator(notebook: Notebook, index: int) -> Problems:
    """The pricing calculator: labels whole, and a slider moved gives a new bill and chart."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    problems: Problems = []
    cell = notebook.cell(index)
    cell.scroll_into_view_if_needed()
    cut = cell.evaluate("""cell => [...cell.querySelectorAll(
            '.widget-label, .widget-toggle-button, .widget-label-basic')]
        .filter(label => label.scrollWidth > label.clientWidth + 1)
        .map(label => label.textContent.trim())""")
    for label in cut:
        problems.append((index, f"the calculator's label {label!r} is cut"))
    slider = cell.locator(".widget-slider", has_text="Memory (MB)")
    result = cell.locator(".widget-html-content").last
    before_readout = slider.locator(".widget-readout").inner_text()
    before = result.inner_html()
    if "<svg" not in before:
        problems.append((index, "the calculator shows no chart"))
    # a learner drags the slider's handle to the right
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()  # the box is measured where the drag happens
    box = handle.bounding_box()
    notebook.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    notebook.page.mouse.down()
    notebook.page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2,
                             steps=10)
    notebook.page.mouse.up()
    if slider.locator(".widget-readout").inner_text() == before_readout:
        # a loaded browser can miss a fast drag's first events: the slider's keyboard control,
        # which a learner may use too, moves it instead
        handle.focus()
        for _ in range(5):
            handle.press("ArrowRight")
    # the kernel computes the bill and chart for each value the slider passes: wait for those of
    # the value it settled on (its readout)
    try:
        notebook.page.wait_for_function(
            """([slider, result]) => {
                const chosen = slider.querySelector('.widget-readout').textContent
                    .replace(/,/g, '').trim();
                return result.textContent.replace(/,/g, '').includes(` ${chosen} MB`);
            }""",
            arg=[slider.element_handle(), result.element_handle()], timeout=60_000,
            polling=200)
    except PlaywrightTimeout:
        problems.append((index, "the bill does not follow the Memory slider: it does not show "
                                "the memory size the slider shows"))
        return problems
    after_readout = slider.locator(".widget-readout").inner_text()
    after = result.inner_html()
    if after_readout == before_readout:
        problems.append((index, "the Memory slider did not move"))
    chart_before = before[before.find("<svg"):]
    chart_after = after[after.find("<svg"):]
    if "<svg" not in after or chart_after == chart_before:
        problems.append((index, "the chart was not redrawn for the new memory size"))
    return problems


def _watch(notebook: Notebook, index: int) -> Problems:
    """The live view drew the execution more than once while it moved, ending with no state
    still running."""
    drawn = [drawing["states"] for drawing in notebook.drawings()
             if drawing["cell"] == index and drawing["widget"]]
    distinct = list(dict.fromkeys(drawn))
    if len(distinct) < 2:
        return [(index, f"the live view drew {len(distinct)} different state(s) of the "
                        "execution; it should redraw as the execution moves")]
    if "running" in distinct[-1].split():
        return [(index, "the live view's last drawing still shows a state running")]
    return []


def _report(notebook: Notebook, name: str, problems: Problems, saved: dict[str, Any]) -> None:
    if not problems:
        return
    lines = []
    for index, problem in sorted(problems):
        source = saved["cells"][index]["source"].strip().splitlines()
        first = source[0][:80] if source else ""
        lines.append(f"cell {index} ({first!r}): {problem}")
    text = f"{notebook.path}: {len(problems)} problem(s) in the browser\n" + "\n".join(lines)
    folder = keep_evidence(notebook.page, name, text,
                           [notebook.cell(index) for index in sorted({i for i, _ in problems})])
    notebook.page.evidence_kept = True
    pytest.fail(f"{text}\nscreenshots: {folder.relative_to(ROOT)}", pytrace=False)


def _run(page: Any, lab: Lab, path: str) -> tuple[Notebook, dict[str, Any]]:
    notebook = Notebook(page, lab, path)
    notebook.add_canary()
    notebook.open()
    seconds = notebook.run_all()
    print(f"{path}: Run All took {seconds:.1f} s")
    notebook.settle()
    return notebook, notebook.save()


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lesson_runs_all_in_the_browser_and_shows_what_it_should(
        page: Any, lab: Lab, lesson: str, request: pytest.FixtureRequest) -> None:
    notebook, saved = _run(page, lab, f"lessons/{lesson}")
    problems = _errors_and_unrun(saved) + _rendering(notebook, saved)
    for index in _calling(saved, "pricing.calculator("):
        problems += _calculator(notebook, index)
    for index in _calling(saved, "diagram.watch("):
        problems += _watch(notebook, index)
    _report(notebook, request.node.nodeid, problems, saved)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_an_exercise_left_blank_runs_all_to_every_check_which_says_not_attempted(
        page: Any, lab: Lab, exercise: str, request: pytest.FixtureRequest) -> None:
    notebook, saved = _run(page, lab, f"exercises/{exercise}")
    problems = _errors_and_unrun(saved) + _rendering(notebook, saved)
    checks = [index for index, cell in enumerate(saved["cells"]) if "check" in _tags(cell)]
    assert checks, f"{exercise} has no check cell (tagged 'check')"
    for index in checks:
        answer = _output_text(saved["cells"][index])
        if NOT_ATTEMPTED not in answer:
            problems.append((index, f"a blank task's check should answer {NOT_ATTEMPTED!r}; it "
                                    f"said {answer.strip()[:200]!r}"))
    _report(notebook, request.node.nodeid, problems, saved)


def test_the_live_view_and_the_calculator_are_still_in_a_lesson() -> None:
    # the two checks above run where a lesson calls them; if a lesson stops doing so, this says
    # that they no longer run (then test them on a small notebook the test writes)
    sources = {name: (ROOT / "lessons" / name).read_text(encoding="utf-8") for name in LESSONS}
    assert any("diagram.watch(" in text for text in sources.values()), "no lesson calls watch"
    assert any("pricing.calculator(" in text for text in sources.values()), (
        "no lesson shows the calculator")


def test_the_launchers_address_opens_lesson_00_with_the_file_browser_at_the_root(
        page: Any, lab: Lab) -> None:
    """What `make lab` prints (and Binder's badge asks for): lesson 00 open, the file browser at
    the course's root, and no prompt about Jupyter news (lab-settings/overrides.json)."""
    import urllib.parse

    from sandbox.course.lab import LESSON_URL

    # the badge in the README opens the same address on Binder
    badge = re.search(r"mybinder\.org/v2/gh/[^)\s]*\?urlpath=([^)\s]+)",
                      (ROOT / "README.md").read_text(encoding="utf-8"))
    assert badge and "/" + urllib.parse.unquote(badge[1]) == LESSON_URL
    assert lab.address.partition("&token=")[0].endswith(LESSON_URL)
    page.goto(lab.address.replace("localhost", "127.0.0.1", 1))
    page.wait_for_function(KERNEL_IDLE, timeout=180_000, polling=250)
    current = page.locator(
        "#jp-main-dock-panel .lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    assert current.inner_text().strip() == "00-welcome.ipynb"
    listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    listing.first.wait_for(timeout=60_000)
    names = set(listing.all_inner_texts())
    assert {"lessons", "exercises"} <= names, f"the file browser shows {sorted(names)}"
    # JupyterLab asks about news when the application is restored, before a notebook opens
    assert page.get_by_text("official Jupyter news").count() == 0


def test_the_checks_report_what_a_broken_notebook_shows(page: Any, lab: Lab) -> None:
    """The checks above can fail: a notebook written here with one of each defect gets exactly
    those reported (and a cell tagged raises-exception, whose error is expected, is not)."""
    import nbformat

    cells = [
        nbformat.v4.new_markdown_cell("Then \\$112 a month, \\$40 now."),
        nbformat.v4.new_markdown_cell("```mermaid\nflowchart LR\n    a[one] --> b[two]\n```"),
        nbformat.v4.new_markdown_cell("```mermaid\nflowchart LR\n    a[one --> b\n```"),
        nbformat.v4.new_code_cell("raise ValueError('expected')",
                                  metadata={"tags": ["raises-exception"]}),
        nbformat.v4.new_code_cell("1 / 0"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(notebook, lab.course / "broken.ipynb")
    shown, saved = _run(page, lab, "broken.ipynb")
    problems = _errors_and_unrun(saved) + _rendering(shown, saved)
    found = sorted((index, problem.split(" ")[0]) for index, problem in problems)
    assert found == [(0, "MathJax"), (2, "Mermaid"), (4, "error"), (5, "never")], problems
