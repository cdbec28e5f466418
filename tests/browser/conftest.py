"""Fixtures of the browser tests: a JupyterLab on a copy of the course, and Chromium.

Chromium is Debian's (`apt-get install chromium`), launched by path: Playwright's own browser
download is not used. Without Chromium (or Playwright) the tests skip, saying why, unless the
environment variable CI is set: then they fail, so that CI cannot pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from labdriver import Lab, find_chromium, keep_evidence

_REPORT = pytest.StashKey[pytest.TestReport]()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, and CI must run the browser tests: .ci/run "
                    "installs chromium", pytrace=False)
    pytest.skip(f"{reason} (apt-get install chromium fonts-dejavu-core, then make venv)")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        _unavailable("no Chromium found ($SANDBOX_CHROMIUM, or chromium, chromium-browser, "
                     "google-chrome on PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (the [dev] extra)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def lab(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    started = Lab.start(tmp_path_factory.mktemp("browser-lab"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's own sandbox needs user namespaces that root in a container lacks
        arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=chromium, args=arguments)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page (its own cookies and storage); on a failure, screenshots in
    .test-artifacts/browser/<test>/; afterwards, no kernel left running."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    try:
        yield opened
        report = request.node.stash.get(_REPORT, None)
        if report is not None and report.failed and not getattr(opened, "evidence_kept", False):
            keep_evidence(opened, request.node.nodeid,
                          f"{report.longreprtext}\n\nJupyterLab's log (end):\n{lab.tail()}")
    finally:
        context.close()
        lab.shut_down_kernels()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_REPORT] = report
    return report
