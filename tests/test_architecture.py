"""Imports go one way (issue 17, ``docs/architecture.md``).

Every module of ``optimizer/`` is parsed with :mod:`ast`; every import counts, at the top of the
file, inside a function or under ``if TYPE_CHECKING:``. The layers, low to high:

    bottom (``optimizer``, ``format``) < scenario < data < model < solve < results
    < pipeline (``pipeline``, ``config``) < studies < front (``api``, ``cli``, ``__main__``)

A module may import its own layer or a lower one; no import cycle may exist between modules,
inside a layer either. The checks are tested first on small made-up packages, so that a checker
that finds nothing is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optimizer"

#: (module name or package prefix, layer); the longest match wins.
LAYERS: dict[str, int] = {
    "optimizer": 0,
    "optimizer.format": 0,
    "optimizer.scenario": 1,
    "optimizer.data": 2,
    "optimizer.sampling": 2,
    "optimizer.model": 3,
    "optimizer.solve": 4,
    "optimizer.results": 5,
    "optimizer.pipeline": 6,
    "optimizer.config": 6,
    "optimizer.studies": 7,
    "optimizer.api": 8,
    "optimizer.cli": 8,
    "optimizer.__main__": 8,
}
LAYER_NAMES = {
    0: "bottom",
    1: "scenario",
    2: "data",
    3: "model",
    4: "solve",
    5: "results",
    6: "pipeline",
    7: "studies",
    8: "front",
}
#: Longest module, in lines, unless its docstring says why it is longer ("over 600 lines").
MAX_LINES = 600


def module_sources(root: Path) -> dict[str, str]:
    """Module name -> source of every ``.py`` file under ``root`` (a package folder)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path.read_text(encoding="utf-8")
    return out


def _is_package(name: str, modules: dict[str, str]) -> bool:
    return any(m.startswith(name + ".") for m in modules)


def _owner(name: str, modules: dict[str, str]) -> str | None:
    """The module of ``modules`` that ``name`` (a dotted import target) loads, or None for an
    outside module (numpy, typer...)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, source: str, modules: dict[str, str]) -> list[tuple[str, int]]:
    """(imported module, line) of every import of the package's own modules in ``source``,
    wherever it stands (top level, function body, ``TYPE_CHECKING`` block)."""
    package = name if _is_package(name, modules) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            owner = _owner(target, modules)
            if owner is not None and owner != name:
                found.append((owner, node.lineno))
    return found


def layer_of(name: str, layers: dict[str, int]) -> int | None:
    """The layer of a module: its longest matching entry of ``layers``."""
    while name:
        if name in layers:
            return layers[name]
        name = name.rpartition(".")[0]
    return None


def upward_imports(
    modules: dict[str, str], layers: dict[str, int], names: dict[int, str] | None = None
) -> list[str]:
    """One message per import of a higher layer, naming the module, the line and both layers
    (by their ``names``, else their numbers)."""
    names = names or {}
    problems = []
    for name, source in modules.items():
        low = layer_of(name, layers)
        for target, line in imports_of(name, source, modules):
            high = layer_of(target, layers)
            if low is not None and high is not None and high > low:
                problems.append(
                    f"{name} (layer {names.get(low, low)}) imports {target} (layer "
                    f"{names.get(high, high)}) at line {line}: a lower layer must not "
                    "import a higher one; move the shared piece down or pass plain data"
                )
    return problems


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """The import cycles: each strongly connected component of more than one module (Tarjan),
    as its modules in sorted order."""
    graph = {n: sorted({t for t, _ in imports_of(n, s, modules)}) for n, s in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def _cycle_text(cycle: list[str], modules: dict[str, str]) -> str:
    members = set(cycle)
    edges = dict.fromkeys(
        f"{n} -> {t} (line {line})"
        for n in cycle
        for t, line in imports_of(n, modules[n], modules)
        if t in members
    )
    return "import cycle between " + ", ".join(cycle) + ": " + "; ".join(edges)


# --- the checker, on made-up packages ---------------------------------------------------------

TOY_LAYERS = {"pkg": 0, "pkg.low": 1, "pkg.high": 2}


def test_an_upward_import_inside_a_function_is_named():
    """pkg.low (layer 1) imports pkg.high (layer 2) in a function body: one problem, naming
    both modules and line 2."""
    toy = {
        "pkg": "",
        "pkg.low": "def f():\n    from pkg.high import thing\n",
        "pkg.high": "from pkg.low import f\nthing = 1\n",
    }
    problems = upward_imports(toy, TOY_LAYERS)
    assert len(problems) == 1
    assert "pkg.low (layer 1) imports pkg.high (layer 2) at line 2" in problems[0]


def test_a_type_checking_import_counts_too():
    toy = {
        "pkg": "",
        "pkg.low": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.high\n",
        "pkg.high": "",
    }
    assert len(upward_imports(toy, TOY_LAYERS)) == 1
    assert import_cycles(toy) == []


def test_a_cycle_is_found_and_its_edges_named():
    """a -> b -> c -> a is one cycle of three; d -> a is outside it."""
    toy = {
        "pkg": "",
        "pkg.a": "from pkg import b\n",
        "pkg.b": "import pkg.c as c\n",
        "pkg.c": "def f():\n    from pkg.a import x\n",
        "pkg.d": "from .a import x\n",
    }
    cycles = import_cycles(toy)
    assert cycles == [["pkg.a", "pkg.b", "pkg.c"]]
    text = _cycle_text(cycles[0], toy)
    assert "pkg.c -> pkg.a (line 2)" in text
    assert "pkg.d" not in text


def test_a_relative_import_resolves_to_its_module():
    toy = {"pkg": "", "pkg.sub": "", "pkg.sub.a": "from ..b import y\n", "pkg.b": ""}
    assert imports_of("pkg.sub.a", toy["pkg.sub.a"], toy) == [("pkg.b", 1)]


# --- the package --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def modules() -> dict[str, str]:
    return module_sources(PACKAGE)


def test_every_module_has_a_layer(modules):
    assert modules, f"no modules found under {PACKAGE}"
    missing = [n for n in modules if layer_of(n, LAYERS) is None]
    assert not missing, f"modules without a layer (add them to LAYERS): {missing}"


def test_no_lower_layer_imports_a_higher_one(modules):
    problems = upward_imports(modules, LAYERS, LAYER_NAMES)
    assert not problems, "\n".join(problems)


def test_no_import_cycle(modules):
    cycles = import_cycles(modules)
    assert not cycles, "\n".join(_cycle_text(c, modules) for c in cycles)


def test_long_modules_say_why(modules):
    """A module over MAX_LINES lines says why in its docstring ("over 600 lines")."""
    long = []
    for name, source in modules.items():
        n = source.count("\n")
        doc = ast.get_docstring(ast.parse(source)) or ""
        if n > MAX_LINES and f"over {MAX_LINES} lines" not in doc:
            long.append(f"{name}: {n} lines")
    assert not long, "split these or say why in their docstring: " + ", ".join(long)
