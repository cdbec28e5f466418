"""The course's JupyterLab set-up: the settings `make lab` and Binder install, and the launcher."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox.course import lab

ROOT = Path(__file__).resolve().parent.parent
OVERRIDES = ROOT / "lab-settings" / "overrides.json"


def test_every_override_is_a_setting_jupyterlab_has():
    # a misspelt plugin or key would be ignored without a word: check each against the schemas
    # of the JupyterLab installed here (the pinned one)
    from jupyterlab.commands import get_app_dir

    schemas = Path(get_app_dir()) / "schemas"
    for plugin, values in json.loads(OVERRIDES.read_text()).items():
        package, _, name = plugin.partition(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            assert key in schema["properties"], (plugin, key)
            allowed = [option["const"] for option in schema["properties"][key].get("oneOf", [])]
            assert not allowed or value in allowed, (plugin, key, value)
    news = json.loads(OVERRIDES.read_text())["@jupyterlab/apputils-extension:notification"]
    assert news["fetchNews"] == "false"  # no "official Jupyter news" prompt


def test_make_lab_and_binder_install_the_overrides_where_jupyterlab_reads_them():
    from jupyterlab.commands import get_app_dir

    # JupyterLab's application directory is <sys.prefix>/share/jupyter/lab; overrides live in
    # its settings folder
    assert Path(get_app_dir()) == Path(sys.prefix) / "share" / "jupyter" / "lab"
    makefile = (ROOT / "Makefile").read_text()
    assert "LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json" in makefile
    assert re.search(r"^lab: .*\$\(LAB_SETTINGS\)", makefile, re.M)
    assert "cp lab-settings/overrides.json $@" in makefile
    assert re.search(r"^lab: \$\(STAMP\) ", makefile, re.M)  # not the developer tools
    post_build = (ROOT / "postBuild").read_text()
    assert "NB_PYTHON_PREFIX" in post_build and "sys.prefix" in post_build
    assert "/share/jupyter/lab/settings" in post_build
    assert 'cp lab-settings/overrides.json "$settings/overrides.json"' in post_build
    readme = (ROOT / "README.md").read_text()
    assert "urlpath=lab/tree/lessons/00-welcome.ipynb%3Ffile-browser-path%3D%2F" in readme


def test_the_launcher_opens_lesson_00_with_the_browser_at_the_root():
    args = lab.arguments("secret", ["--no-browser"])
    assert "--LabApp.default_url=/lab/tree/lessons/00-welcome.ipynb?file-browser-path=/" in args
    # the address printed for copying keeps its token after the URL's own query
    assert ("--ServerApp.custom_display_url=/lab/tree/lessons/00-welcome.ipynb"
            "?file-browser-path=/&token=secret") in args
    assert args[-1] == "--no-browser"


@pytest.mark.slow
def test_jupyterlab_serves_the_overrides_and_the_printed_address_works(tmp_path):
    from jupyterlab.commands import get_app_dir

    installed = Path(get_app_dir()) / "settings" / "overrides.json"
    if not installed.exists() or installed.read_text() != OVERRIDES.read_text():
        pytest.skip("the overrides are installed by make lab; run it once")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "sandbox.course.lab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.port_retries=0"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        address = None
        deadline = time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = server.stderr.readline()
            found = re.search(rf"http://localhost:{port}/\S+", line)
            address = found[0] if found else None
        assert address and "&token=" in address
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
        # the printed address logs in (at 127.0.0.1: localhost may mean ::1, not served here);
        # the server prints it a moment before it accepts connections
        while True:
            try:
                with direct.open(address.replace("localhost", "127.0.0.1", 1)) as page:
                    assert page.status == 200
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        token = address.rpartition("&token=")[2]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/lab/api/settings/"
            "@jupyterlab/apputils-extension:notification",
            headers={"Authorization": f"token {token}"})
        with direct.open(request) as answer:
            schema = json.load(answer)["schema"]
        assert schema["properties"]["fetchNews"]["default"] == "false"
    finally:
        server.terminate()
        server.wait(30)
        server.stderr.close()
