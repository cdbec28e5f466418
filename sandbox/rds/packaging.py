"""A database driver packaged with a function, as a learner does with ``pip install -t``.

Lambda's Python runtime has no PostgreSQL driver: a function that connects to a cluster carries
one in its deployment package. ``driver_files("pg8000")`` gives the files of an installed
distribution and of everything it requires (pg8000: scramp, asn1crypto, python-dateutil, six),
their ``.dist-info`` folders included (pg8000 reads scramp's version from its metadata), as
``{path in the zip: bytes}`` for ``sandbox.testing.zip_files`` or ``%%lambda``'s packages.
"""

from __future__ import annotations

import importlib.metadata
import re


def driver_files(*names: str) -> dict[str, bytes]:
    """The files of distributions ``names`` and their requirements (compiled files left out:
    the runtime compiles its own)."""
    files: dict[str, bytes] = {}
    seen: set[str] = set()
    wanted = list(names)
    while wanted:
        name = wanted.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        distribution = importlib.metadata.distribution(name)
        for path in distribution.files or []:
            text = str(path)
            if text.endswith(".pyc") or "__pycache__" in text or text.startswith(".."):
                continue
            files[text] = path.read_binary()
        for requirement in distribution.requires or []:
            if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
                continue  # an optional extra's requirement
            wanted.append(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0])
    return files
