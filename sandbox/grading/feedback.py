"""A feedback page per graded notebook: each check's status, hint, the learner's output and
traceback, ANSI codes stripped. An instructor's extra checks say only passed or failed."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; }}
.passed {{ color: #1a7f37; }} .failed, .error, .timeout {{ color: #cf222e; }}
.not-run {{ color: #6e7781; }}
pre {{ background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
<p><strong>{earned:g} / {maximum:g} points</strong></p>{note}
{checks}
</body></html>
"""
CHECK = """<section><h2 class="{status}">{check_id}: {status} ({points:g}/{max_points:g})</h2>
{message}{output}</section>"""


def write_feedback(path: Path, student: str, notebook: str, rows: list[Any], note: str) -> None:
    from .grade import printable, strip_ansi

    sections = []
    for row in rows:
        message = "" if row.hidden or not row.message else \
            f"<pre>{html.escape(strip_ansi(row.message))}</pre>"
        output = "" if row.hidden or not row.output else \
            f"<details><summary>Output</summary><pre>" \
            f"{html.escape(strip_ansi(row.output)[-5000:])}</pre></details>"
        label = "instructor's check" if row.hidden else row.check_id
        status = row.status if not row.hidden or row.status == "passed" else "failed"
        sections.append(CHECK.format(status=status, check_id=html.escape(label),
                                     points=row.points, max_points=row.max_points,
                                     message=message, output=output))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PAGE.format(
        title=html.escape(printable(f"{notebook} - {student}")), earned=sum(r.points for r in rows),
        maximum=sum(r.max_points for r in rows),
        note=f"<p>{html.escape(note)}</p>" if note else "", checks="\n".join(sections)))
