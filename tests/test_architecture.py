"""ARCHITECTURE.md, checked: no module imports from a layer above its own (type-only
imports included), no import cycle at run time, the check engine free of pytest, and
modules near 300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "conformance"

LAYERS = {
    1: {"options", "outcomes", "errors", "forms", "redact", "stop", "paths", "__init__"},
    2: {"contracts", "catalogue", "invalid"},
    3: {"expected", "oracle", "findings", "compare"},
    4: {"mock", "settings", "client", "limits", "exchange", "evidence", "target", "profile", "run"}
    | {"cassettes", "documented", "proxy", "baseline"},
    5: {"checks", "fuzz", "sdk"},
    6: {"results", "summaries", "report", "pytest", "suites", "launch", "cli"},
}
TOP = {name: layer for layer, names in LAYERS.items() for name in names}
MAX_LINES = 350  # "near 300": a module past this is split


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts)


def _layer(module: str) -> int:
    parts = module.split(".")
    return TOP[parts[1] if len(parts) > 1 else "__init__"]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported conformance module, whether only for type checking) of one file;
    ``from conformance import stop`` imports ``conformance.stop``."""
    tree = ast.parse(path.read_text())
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for child in node.body for n in ast.walk(child)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "conformance":
            found += [
                (f"conformance.{a.name}", id(node) in typing_only)
                for a in node.names
                if a.name != "__version__"
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("conformance"):
            found.append((node.module, id(node) in typing_only))
        elif isinstance(node, ast.Import):
            found += [
                (a.name, id(node) in typing_only) for a in node.names if a.name.startswith("conformance")
            ]
    return found


FILES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[_module(p) for p in FILES])
def test_no_import_from_a_layer_above(path):
    here = _layer(_module(path))
    above = [(m, typing) for m, typing in _imports(path) if _layer(m) > here]
    assert not above, f"{_module(path)} (layer {here}) imports from above: {above}"


def test_no_import_cycle():
    graph = {
        _module(p).removesuffix(".__init__"): {m for m, typing in _imports(p) if not typing} for p in FILES
    }
    modules = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = {m: {r for n in deps if (r := resolve(n)) and r != m} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize(
    "package", ["checks", "fuzz", "sdk", "oracle", "compare", "client", "run", "profile"]
)
def test_the_engine_does_not_import_pytest(package):
    paths = (
        [SRC / f"{package}.py"]
        if (SRC / f"{package}.py").is_file()
        else sorted((SRC / package).rglob("*.py"))
    )
    for path in paths:
        assert "pytest" not in {n.split(".")[0] for n, _ in _names(path)}, path


def _names(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append((node.module, node.lineno))
    return names


@pytest.mark.parametrize("path", FILES, ids=[_module(p) for p in FILES])
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_module(path)} has {lines} lines"
