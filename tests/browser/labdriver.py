"""JupyterLab as a learner uses it, driven through Chromium by Playwright.

`Lab` is a JupyterLab server the tests start on a copy of the course; `Notebook` opens one
notebook in it and does what a learner does: the menus (Edit > Clear Outputs of All Cells,
Run > Run All Cells, File > Save Notebook) and the controls of a widget. Every wait is for a
state of the page or of the kernel (the status bar's "Idle", the cells' prompts), with a
generous limit: on two shared cores a lesson's cells can take minutes, and no fixed pause is
ever long enough everywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".test-artifacts" / "browser"

# Where the tests look for Chromium, in order: $SANDBOX_CHROMIUM, then these names on PATH
# (Debian's package is `chromium`; other distributions and Google's build use the others).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# How long a notebook may take to run to its end in the browser: a lesson takes 10-60 s on an
# idle machine; CI's two cores may be shared with other work, hence the margin.
RUN_ALL_TIMEOUT_S = 15 * 60
START_TIMEOUT_S = 180  # JupyterLab up, a notebook open and its kernel idle

# The marker a test appends to each notebook it opens: a formula MathJax must typeset. Seeing
# it typeset proves MathJax has run over the notebook's markdown (it renders in order), so an
# absence of formulas elsewhere means there are none, not that MathJax had not got there yet.
CANARY_ID = "browser-test-mathjax-canary"
CANARY_SOURCE = "Browser test canary: $x^2$"


def find_chromium() -> str | None:
    chosen = os.environ.get("SANDBOX_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Lab:
    """A JupyterLab server on a copy of the course, started by `sandbox.course.lab` (the
    launcher `make lab` runs) with the course's settings (lab-settings/overrides.json)."""

    course: Path  # the copy of the course it serves
    log: Path
    process: subprocess.Popen[bytes]
    address: str = ""  # the address the launcher printed, with its token
    base: str = ""
    token: str = ""
    _direct: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(urllib.request.ProxyHandler({})))

    @classmethod
    def start(cls, where: Path) -> Lab:
        course = where / "course"
        for folder in ("lessons", "exercises"):
            shutil.copytree(ROOT / folder, course / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        # JupyterLab reads overrides.json from its application settings directory; pointing it
        # at a copy of the repository's file tests that file, whatever is installed in .venv
        settings = where / "app-settings"
        settings.mkdir()
        shutil.copy(ROOT / "lab-settings" / "overrides.json", settings / "overrides.json")
        home = where / "home"
        for folder in ("user-settings", "workspaces", "config", "data", "runtime", "ipython"):
            (home / folder).mkdir(parents=True)  # IPython warns of a folder it cannot create
        # Nothing of the learner's is read or written: their JupyterLab settings, workspaces,
        # kernels' history and a sandbox their shell may point at stay out of this server.
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "SANDBOX_", "JUPYTER", "IPYTHON"))}
        env.update(JUPYTERLAB_SETTINGS_DIR=str(home / "user-settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   JUPYTER_CONFIG_DIR=str(home / "config"),
                   JUPYTER_DATA_DIR=str(home / "data"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   IPYTHONDIR=str(home / "ipython"))
        port = free_port()
        log = where / "jupyterlab.log"
        arguments = [sys.executable, "-m", "sandbox.course.lab", "--no-browser",
                     f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
                     f"--LabApp.app_settings_dir={settings}"]
        if os.geteuid() == 0:
            arguments.append("--allow-root")  # containers and CI run as root
        with log.open("wb") as output:
            process = subprocess.Popen(arguments, cwd=course, env=env, stdout=output,
                                       stderr=subprocess.STDOUT)
        lab = cls(course, log, process)
        try:
            lab._wait_until_up(port)
        except BaseException:
            lab.stop()
            raise
        return lab

    def _wait_until_up(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        pattern = re.compile(rf"http://127\.0\.0\.1:{port}/\S*&token=\S+")
        while not self.address:
            found = pattern.search(self.log.read_text(errors="replace"))
            if found:
                self.address = found[0]
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start; its log:\n{self.tail()}")
            time.sleep(0.2)  # polling the log for the address, not waiting a fixed time
        self.base = f"http://127.0.0.1:{port}"
        self.token = self.address.rpartition("&token=")[2]
        while True:  # the address is printed a moment before the server accepts connections
            try:
                self.api("GET", "/api/status")
                return
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with self._direct.open(request, timeout=60) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def url(self, notebook: str) -> str:
        """The notebook in a workspace of its own: nothing another test opened comes back."""
        workspace = f"test-{uuid.uuid4().hex[:8]}"
        return (f"{self.base}/lab/workspaces/{workspace}/tree/{urllib.parse.quote(notebook)}"
                f"?token={self.token}")

    def shut_down_kernels(self) -> None:
        """Each kernel stops its sandbox with it; the next notebook starts afresh."""
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.shut_down_kernels()
            except (OSError, urllib.error.URLError):
                pass  # not up: nothing started a kernel
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


# ---------------------------------------------------------------- in the page
IDLE = """[...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(item => /\\| Idle$/.test(item.textContent.trim()))"""
KERNEL_IDLE = "() => " + IDLE

# Run All has ended: the kernel is idle, no cell waits ([*]), and one has run since the outputs
# were cleared. A cell that raises stops the run; the cells after it go back to [ ].
RUN_ALL_ENDED = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
        .map(prompt => prompt.textContent);
    return !prompts.some(text => text.includes('*')) && prompts.some(text => /\\d/.test(text))
        && """ + IDLE + ";\n}"

# Every drawing Mermaid puts in the page, as it appears: a live view replaces its drawing, and
# only a record of each one shows that it changed. A drawing is known by its states' classes
# (Mermaid's ids differ between two renderings of one diagram).
RECORD_DRAWINGS = """() => {
    window.__drawings = [];
    const seen = node => {
        const src = node.getAttribute('src') || '';
        const svg = src.startsWith('data:image/svg+xml,')
            ? decodeURIComponent(src.slice('data:image/svg+xml,'.length)) : node.outerHTML;
        const cell = node.closest('.jp-Cell');
        window.__drawings.push({
            cell: cell ? Number(cell.dataset.windowedListIndex) : -1,
            widget: !!node.closest('.jupyter-widgets'),
            states: [...svg.matchAll(/class="node ([^"]*)"/g)].map(match => match[1]).join('|'),
        });
    };
    new MutationObserver(records => {
        for (const record of records) {
            for (const node of record.addedNodes) {
                if (!(node instanceof Element)) continue;
                const selector = '.jp-RenderedMermaid img, .jp-RenderedMermaid svg';
                if (node.matches(selector)) seen(node);
                node.querySelectorAll(selector).forEach(seen);
            }
        }
    }).observe(document.body, {childList: true, subtree: true});
}"""

# Mermaid renders each diagram asynchronously: done when every one holds a drawing or a warning.
DRAWINGS_SETTLED = """() => [...document.querySelectorAll('.jp-Notebook .jp-RenderedMermaid')]
    .every(box => box.classList.contains('jp-mod-warning') || box.querySelector('img, svg'))"""

CANARY_TYPESET = """() => [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')]
    .some(cell => cell.textContent.includes('Browser test canary')
                  && cell.querySelector('mjx-container'))"""

# The notebook's tab (in the main area: the side bars' tabs are tabs too) is not marked unsaved
SAVED = """() => {
    const tab = document.querySelector(
        '#jp-main-dock-panel .lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current');
    return tab && !tab.classList.contains('jp-mod-dirty');
}"""

# What the page shows, cell by cell (the cells' DOM index is the notebook's cell index)
INSPECT = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => ({
    index: Number(cell.dataset.windowedListIndex),
    formulas: [...cell.querySelectorAll('.jp-RenderedMarkdown mjx-container')]
        .map(formula => (formula.closest('p, li, td, h1, h2, h3, h4') || formula).textContent
             .slice(0, 160)),
    mermaid: [...cell.querySelectorAll('.jp-RenderedMermaid')].map(box => {
        const drawing = box.querySelector('img, svg');
        const shown = drawing ? drawing.getBoundingClientRect() : null;
        return {
            warning: box.classList.contains('jp-mod-warning') ? box.textContent.slice(0, 300) : '',
            drawn: !!drawing && (drawing.tagName.toLowerCase() === 'svg'
                || ((drawing.getAttribute('src') || '').startsWith('data:image/svg+xml')
                    && drawing.naturalWidth > 0)),
            height: shown ? shown.height : 0,
        };
    }),
    unrendered_mermaid: cell.querySelectorAll(
        '.jp-RenderedMarkdown pre > code.language-mermaid').length,
    widget_errors: [...cell.querySelectorAll('.jp-OutputArea-output')]
        .filter(output => /Error displaying widget|Error rendering output/i
                          .test(output.textContent))
        .map(output => output.textContent.slice(0, 200)),
}))"""


class Notebook:
    """One notebook of the course copy, open in its own JupyterLab workspace."""

    def __init__(self, page: Any, lab: Lab, path: str):
        self.page = page
        self.lab = lab
        self.path = path
        self.file = lab.course / path

    def add_canary(self) -> None:
        import nbformat

        notebook = nbformat.read(self.file, as_version=4)
        canary = nbformat.v4.new_markdown_cell(CANARY_SOURCE)
        canary["id"] = CANARY_ID
        notebook.cells.append(canary)
        nbformat.write(notebook, self.file)

    def open(self) -> None:
        self.page.goto(self.lab.url(self.path))
        self.page.wait_for_function(KERNEL_IDLE, timeout=START_TIMEOUT_S * 1000, polling=250)

    def menu(self, menu: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()

    def run_all(self) -> float:
        """Clear the outputs, then Run All from the menu; the seconds it took."""
        self.menu("Edit", "Clear Outputs of All Cells")
        self.page.evaluate(RECORD_DRAWINGS)
        started = time.monotonic()
        self.menu("Run", "Run All Cells")
        self.page.wait_for_function(RUN_ALL_ENDED, timeout=RUN_ALL_TIMEOUT_S * 1000, polling=500)
        return time.monotonic() - started

    def settle(self) -> None:
        """Wait for what renders after the kernel is done: Mermaid drawings, MathJax."""
        self.page.wait_for_function(DRAWINGS_SETTLED, timeout=120_000, polling=250)
        self.page.wait_for_function(CANARY_TYPESET, timeout=120_000, polling=250)

    def save(self) -> dict[str, Any]:
        """File > Save Notebook; the notebook as saved (outputs as the browser holds them)."""
        import nbformat

        before = self.file.stat().st_mtime_ns
        self.menu("File", "Save Notebook")
        # the notebook's tab loses its "unsaved" mark once the server has written the file
        # (atomically: Jupyter Server writes a temporary file and renames it)
        self.page.wait_for_function(SAVED, timeout=60_000, polling=250)
        deadline = time.monotonic() + 60
        while self.file.stat().st_mtime_ns == before:  # the rename is done: at most a moment
            assert time.monotonic() < deadline, f"File > Save did not write {self.path}"
            time.sleep(0.1)
        return dict(nbformat.read(self.file, as_version=4))

    def inspect(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate(INSPECT))

    def drawings(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("() => window.__drawings || []"))

    def cell(self, index: int) -> Any:
        return self.page.locator(f'.jp-Notebook .jp-Cell[data-windowed-list-index="{index}"]')


def keep_evidence(page: Any, name: str, notes: str, cells: Sequence[Any] = ()) -> Path:
    """Screenshots of the page and of each cell concerned, and what went wrong, in
    .test-artifacts/browser/<test>/ (CI keeps the folder of a failed run)."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "problems.txt").write_text(notes)
    for number, cell in enumerate(cells):
        try:
            cell.scroll_into_view_if_needed(timeout=10_000)
            cell.screenshot(path=str(folder / f"cell-{number}.png"), timeout=30_000)
        except Exception as error:  # evidence is best effort: the failure is reported anyway
            (folder / f"cell-{number}.txt").write_text(f"no screenshot: {error}")
    try:
        page.screenshot(path=str(folder / "page.png"), timeout=30_000)
    except Exception as error:
        (folder / "page.txt").write_text(f"no screenshot: {error}")
    return folder
