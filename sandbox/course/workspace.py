"""`course workspace`: the learner's own copies of the exercises, out of git's way.

Running a notebook saves it, so a learner who works in ``exercises/`` (or only runs the lessons)
has changed files that ``git pull`` refuses to overwrite when the course is updated. Working in
a copy avoids that: ``work/`` is ignored by git, and this copies into it each exercise it does not
have yet. It never overwrites a notebook there: that is the learner's work.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

FOLDER = "work"


@dataclass
class Copied:
    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # already there: the learner's, untouched


def copy_exercises(root: Path, into: Path | None = None) -> Copied:
    """Copy root/exercises/*.ipynb into `into` (root/work by default), skipping any already
    there."""
    source = root / "exercises"
    if not source.is_dir():
        raise FileNotFoundError(f"{source} does not exist: run this in the course's folder")
    into = root / FOLDER if into is None else into
    into.mkdir(parents=True, exist_ok=True)
    result = Copied()
    for exercise in sorted(source.glob("*.ipynb")):
        target = into / exercise.name
        if target.exists():
            result.kept.append(target)
        else:
            shutil.copyfile(exercise, target)
            result.copied.append(target)
    return result
