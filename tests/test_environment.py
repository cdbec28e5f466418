"""pyproject.toml and environment.yml must pin the same versions.

pip users (`make lab`, `make test`) install from pyproject.toml; Binder and conda users install
from environment.yml. If the two drift, the course is proven against one set of versions and
taught on another.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # PyYAML, already installed with jupyterlab (via jupyter-events)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"

# Installed by conda itself, not pinned in pyproject.toml.
CONDA_ONLY = {"python", "pip"}

Pin = tuple[str, frozenset[str]]  # (version, extras)


def _exact_pin(req: Requirement, source: str) -> Pin:
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator != "==":
        raise AssertionError(
            f"{source}: {req.name} must be pinned to one exact version with '==', "
            f"got {str(req.specifier) or 'no version'!r}"
        )
    return specs[0].version, frozenset(req.extras)


def _pyproject() -> dict:
    with PYPROJECT.open("rb") as f:
        return tomllib.load(f)


# optional extras environment.yml installs too (Binder gets the instructor's tools as well)
MIRRORED_EXTRAS = ("dask",)


def pyproject_pins() -> dict[str, Pin]:
    optional = _pyproject()["project"].get("optional-dependencies", {})
    deps = [*_pyproject()["project"]["dependencies"],
            *(line for extra in MIRRORED_EXTRAS for line in optional.get(extra, []))]
    pins = {}
    for line in deps:
        req = Requirement(line)
        pins[canonicalize_name(req.name)] = _exact_pin(req, "pyproject.toml")
    return pins


def _environment() -> dict:
    with ENVIRONMENT.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def environment_pins() -> dict[str, Pin]:
    pins = {}
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):
            for line in entry.get("pip", []):
                if _is_local(line):
                    continue  # a test of its own reports it
                req = Requirement(line)
                pins[canonicalize_name(req.name)] = _exact_pin(req, "environment.yml (pip:)")
            continue
        # A conda spec: "name", "name=version" or "name==version".
        name, _, version = str(entry).partition("=")
        name = canonicalize_name(name.strip())
        if name in CONDA_ONLY:
            continue
        version = version.lstrip("=").strip()
        if not version:
            raise AssertionError(f"environment.yml: {name} must be pinned to an exact version")
        pins[name] = version, frozenset()
    return pins


def _is_local(pip_line: str) -> bool:
    return pip_line.startswith(("-e", ".", "/"))


def _difference(name: str, project: Pin, env: Pin) -> str:
    (project_version, project_extras), (env_version, env_extras) = project, env
    if project_version != env_version:
        return f"{name}: pyproject.toml pins {project_version}, environment.yml pins {env_version}"
    parts = []
    if project_extras - env_extras:
        parts.append(f"only pyproject.toml has [{','.join(sorted(project_extras - env_extras))}]")
    if env_extras - project_extras:
        parts.append(f"only environment.yml has [{','.join(sorted(env_extras - project_extras))}]")
    return f"{name}: extras differ, " + "; ".join(parts)


def test_every_pyproject_pin_is_in_environment_yml():
    env = environment_pins()
    problems = []
    for name, pin in sorted(pyproject_pins().items()):
        if name not in env:
            problems.append(f"{name}: pinned in pyproject.toml, missing from environment.yml")
        elif env[name] != pin:
            problems.append(_difference(name, pin, env[name]))
    assert not problems, "pyproject.toml and environment.yml disagree:\n" + "\n".join(problems)


def test_every_environment_yml_pin_is_in_pyproject():
    project = pyproject_pins()
    missing = [
        f"{name}: pinned in environment.yml, missing from pyproject.toml [project].dependencies "
        f"(or a mirrored extra: {', '.join(MIRRORED_EXTRAS)})"
        for name in sorted(environment_pins())
        if name not in project
    ]
    assert not missing, "environment.yml pins packages pyproject.toml does not:\n" + "\n".join(
        missing
    )


def test_moto_is_pinned_exactly():
    # The sandbox patches moto at named seams; any other moto version may move them.
    reqs = [Requirement(line) for line in _pyproject()["project"]["dependencies"]]
    motos = [req for req in reqs if canonicalize_name(req.name) == "moto"]
    assert motos, "moto is missing from pyproject.toml [project].dependencies"
    assert [spec.operator for spec in motos[0].specifier] == ["=="], (
        f"moto must be pinned with '==', got {str(motos[0].specifier) or 'no version'!r}"
    )


def test_optional_dependencies_are_pinned_exactly():
    for group, lines in _pyproject()["project"].get("optional-dependencies", {}).items():
        for line in lines:
            _exact_pin(Requirement(line), f"pyproject.toml [{group}]")


def test_environment_yml_leaves_the_local_package_to_postbuild():
    # A local install under pip: makes Binder copy the repository before building the
    # environment, so every commit rebuilds it from scratch; postBuild installs it instead.
    pip_lines = [
        line
        for entry in _environment()["dependencies"]
        if isinstance(entry, dict)
        for line in entry.get("pip", [])
    ]
    local = [line for line in pip_lines if _is_local(line)]
    assert not local, f"environment.yml installs the local package: {local}; use postBuild"
    assert "pip install --no-deps -e ." in (ROOT / "postBuild").read_text(encoding="utf-8")
