"""The test suite's own layout: every test module sits in a layer folder (so it gets its layer's
marker and `-m unit` means what it says), and no test module imports another one (shared helpers
live in tests/support)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
LAYERS = ("unit", "integration", "e2e")


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _imported_modules(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: resolve against the module's package
                package = path.parent.relative_to(TESTS.parent).parts
                base = package[: len(package) - node.level + 1]
                found.append(".".join((*base, node.module)))
            else:
                found.append(node.module)
    return found


def test_every_test_module_is_in_a_layer_folder() -> None:
    modules = _test_modules()
    assert len(modules) > 30
    misplaced = [
        str(p.relative_to(TESTS))
        for p in modules
        if len(p.relative_to(TESTS).parts) != 2 or p.relative_to(TESTS).parts[0] not in LAYERS
    ]
    assert misplaced == []


def test_no_test_module_imports_another_test_module_or_the_conftest() -> None:
    offenders = [
        (str(path.relative_to(TESTS)), name)
        for path in _test_modules()
        for name in _imported_modules(path)
        if name == "tests.conftest"
        or name.rsplit(".", 1)[-1].startswith("test_")
        or any(name.startswith(f"tests.{layer}") for layer in LAYERS)
    ]
    assert offenders == []


def test_support_modules_import_no_test_module() -> None:
    support = sorted((TESTS / "support").glob("*.py"))
    assert support
    offenders = [
        (path.name, name)
        for path in support
        for name in _imported_modules(path)
        if name.rsplit(".", 1)[-1].startswith("test_") or name == "tests.conftest"
    ]
    assert offenders == []
