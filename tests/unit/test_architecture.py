"""The harness's rooms and the direction of their imports (see harness/__init__.py).

Every import counts, at module level or inside a function: a lazy import hides a circle
from the interpreter but not from a reader. A module importing its own package's
``__init__`` (``from . import x``) is not an edge of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each room may import, besides itself. "top" is harness/__init__, __main__, cli, bench.
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "record": set(),
    "sockets": {"model", "record", "netns"},
    "peers": {"model", "record", "netns"},
    "cases": {"model", "record", "sockets", "peers", "netns"},
    "plugin": {"model", "record", "sockets", "peers", "cases", "reporting", "netns"},
    "reporting": {"model", "record"},
    "guests": {"model", "record"},
    "mutants": set(),
    "kmutants": {"model", "record", "guests"},
    "frontdoor": {"model", "record", "reporting", "guests", "kmutants"},
    "netns": set(),
    "top": {"model", "record", "sockets", "peers", "cases", "plugin", "reporting", "guests", "frontdoor", "mutants", "kmutants", "netns"},
}
TOP_MODULES = {"harness", "harness.__main__", "harness.cli", "harness.bench"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for pkg in ("harness", "netns"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            found[module_name(path)] = path
    return found


def room(module: str) -> str:
    if module == "netns" or module.startswith("netns."):
        return "netns"
    if module in TOP_MODULES:
        return "top"
    return module.split(".")[1]


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The suite's modules that ``module`` imports, resolved to module names."""
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from pkg import name" names a submodule when pkg.name is one, else pkg itself.
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if not t or t == module:
                continue
            if module.startswith(t + "."):  # the module's own package __init__
                continue
            out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert cycles(graph()) == []


def test_every_room_imports_only_what_it_may():
    bad = []
    for mod, deps in sorted(graph().items()):
        mine = room(mod)
        assert mine in ALLOWED, f"{mod} lives in no known room ({mine}): add it to ALLOWED"
        for dep in sorted(deps):
            theirs = room(dep)
            if theirs != mine and theirs not in ALLOWED[mine]:
                bad.append(f"{mod} ({mine}) imports {dep} ({theirs})")
    assert bad == []


def test_the_model_imports_nothing_of_the_harness():
    g = graph()
    model = {m: d for m, d in g.items() if room(m) == "model"}
    assert model, "no model room found"
    assert {m: {d for d in deps if room(d) != "model"} for m, deps in model.items()} == {m: set() for m in model}


def test_only_a_handful_of_modules_stay_in_the_package_root():
    loose = sorted(p.name for p in (ROOT / "harness").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "bench.py", "cli.py"]


@pytest.mark.parametrize("path", sorted((ROOT / "harness").rglob("*.py")) + sorted((ROOT / "netns").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_350_lines(path: Path):
    assert len(path.read_text().splitlines()) <= 350


# The checks above are only as good as the graph: prove it sees what it must.


def test_the_checker_finds_a_circle_through_a_lazy_import(tmp_path):
    fake = tmp_path / "harness"
    (fake / "model").mkdir(parents=True)
    (fake / "peers").mkdir()
    for d in (fake, fake / "model", fake / "peers"):
        (d / "__init__.py").write_text("")
    (fake / "model" / "rules.py").write_text("def f():\n    from harness.peers import tunpeer\n")
    (fake / "peers" / "tunpeer.py").write_text("from ..model.rules import f\n")
    (tmp_path / "netns").mkdir()
    (tmp_path / "netns" / "__init__.py").write_text("from .names import x\n")
    (tmp_path / "netns" / "names.py").write_text("from netns import y\n")  # own package: fine
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        g = graph()
    finally:
        ROOT = saved
    assert cycles(g) == [["harness.model.rules", "harness.peers.tunpeer"]]
    assert g["harness.model.rules"] == {"harness.peers.tunpeer"}
    assert g["netns.names"] == set()
