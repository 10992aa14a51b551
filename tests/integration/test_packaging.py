"""The production wheel is the product only: bot/ and storage/ (with the migrations), no testkit/,
and nothing in it imports the test kit when it is loaded."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    # Built from a copy of the checkout, test kit and tests included (so leaving them out is the
    # configuration's doing), because a build writes build/ and *.egg-info beside pyproject.toml.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("bot", "storage", "testkit", "tests", "bench"):
        shutil.copytree(REPO / name, source / name, ignore=junk)
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation and no dependencies: setuptools and wheel come from the test venv, so
    # the build needs no package index.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--quiet",
            "-w",
            str(out),
        ],
        check=True,
        cwd=source,
    )
    (built,) = out.glob("rebound-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def _names(archive: zipfile.ZipFile) -> list[str]:
    return archive.namelist()


def test_the_wheel_holds_no_test_kit(wheel: zipfile.ZipFile) -> None:
    names = _names(wheel)
    assert not [n for n in names if n.startswith("testkit/")]
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]


def test_the_wheel_holds_the_product_and_its_migrations(wheel: zipfile.ZipFile) -> None:
    names = set(_names(wheel))
    for module in ("bot/__init__.py", "bot/cli.py", "bot/app.py", "storage/__init__.py"):
        assert module in names
    assert "storage/alembic.ini" in names
    assert "storage/migrations/env.py" in names
    versions = [n for n in names if n.startswith("storage/migrations/versions/")]
    on_disk = sorted((REPO / "storage" / "migrations" / "versions").glob("*.py"))
    assert on_disk, "the checkout has migrations"
    assert sorted(Path(n).name for n in versions) == [p.name for p in on_disk]


def _top_level_imports(tree: ast.Module) -> list[str]:
    """Modules imported when the module loads: module-level statements, including those under
    module-level `if`/`try` (e.g. TYPE_CHECKING blocks count: cheap to forbid, and clearer)."""
    found: list[str] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.If | ast.Try):
            pending.extend(node.body)
            pending.extend(node.orelse)
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    pending.extend(handler.body)
                pending.extend(node.finalbody)
    return found


def test_no_module_of_the_wheel_imports_the_test_kit_when_loaded(
    wheel: zipfile.ZipFile,
) -> None:
    modules = [n for n in _names(wheel) if n.endswith(".py")]
    assert len(modules) > 20, "the wheel holds the product's modules"
    offenders = [
        (name, imported)
        for name in modules
        for imported in _top_level_imports(ast.parse(wheel.read(name), filename=name))
        if imported == "testkit" or imported.startswith("testkit.")
    ]
    assert offenders == []


def test_the_import_check_sees_a_module_level_test_kit_import() -> None:
    """The check above would catch the mistake it guards against."""
    tree = ast.parse(
        "import os\n"
        "from testkit.standin import SlackStandIn\n"
        "def later():\n"
        "    from testkit.demo import run_demo\n"
    )
    assert _top_level_imports(tree) == ["testkit.standin", "os"]


def test_the_demo_says_where_it_runs_when_the_test_kit_is_absent(tmp_path: Path) -> None:
    """An installed wheel has no testkit: `rebound start` without tokens (and `rebound demo`)
    says the demo runs from a checkout, in one line, and fails."""
    # The child hides testkit as an installed wheel would (None in sys.modules stops its import),
    # then runs the real `rebound` entry point; no .env in tmp_path, so start means the demo.
    script = (
        "import sys\n"
        "sys.modules['testkit'] = None\n"
        "from bot.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for command in ("start", "demo"):
        done = subprocess.run(
            [sys.executable, "-c", script, command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0
        assert done.stdout == ""
        assert done.stderr == "rebound: the offline demo runs from a checkout: ./start.sh\n"
