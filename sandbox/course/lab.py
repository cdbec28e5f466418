"""`make lab`: JupyterLab on the course, lesson 00 open and the file browser at the course's root.

The file browser follows the notebook a URL opens (``lessons/``) unless the URL says otherwise
with ``?file-browser-path=/``. Jupyter prints the address to open with ``?token=...`` added
after the default URL, which is wrong once that URL has a query of its own: the printed address
would lose its token. So the token is chosen here and the printed address written in full
(``custom_display_url`` replaces only the path and query: host and port stay Jupyter's own).
The token stays in this process, never on a command line that other users could list.
"""

from __future__ import annotations

import secrets
import sys

LESSON_URL = "/lab/tree/lessons/00-welcome.ipynb?file-browser-path=/"


def arguments(token: str, extra: list[str]) -> list[str]:
    return ["--ServerApp.root_dir=.", f"--LabApp.default_url={LESSON_URL}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.custom_display_url={LESSON_URL}&token={token}", *extra]


def main(argv: list[str] | None = None) -> None:
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=arguments(secrets.token_urlsafe(32),
                                          sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
