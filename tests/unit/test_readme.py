"""The README says what the suite does: its example keys name real cases, and what it says each
kernel does under memory pressure is what the memory-pressure scenario says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
KEY = re.compile(r"`([a-z-]+)/([a-z-]+)\[([^\]`]+)\]`")


def readme_keys(text: str = README) -> list[tuple[str, str, str]]:
    return [m.groups() for m in KEY.finditer(text) if m.group(1) != "topic"]


def _strings(node: ast.AST | None) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)} \
        if node is not None else set()


def param_ids(tree: ast.AST) -> set[str]:
    """The ids a module's parametrizations can give: ``ids=[...]`` (else the string values) of
    ``parametrize``, ``id=`` of ``pytest.param``, and the ``params=[...]`` of its fixtures."""
    out: set[str] = set()
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = getattr(call.func, "attr", getattr(call.func, "id", ""))
        kw = {k.arg: k.value for k in call.keywords}
        if name == "parametrize":
            out |= _strings(kw.get("ids")) if "ids" in kw else _strings(call.args[1] if len(call.args) > 1 else None)
        elif name == "param":
            out |= _strings(kw.get("id"))
        elif name == "fixture":
            out |= _strings(kw.get("params"))
    return out


def names_a_case(topic: str, scenario: str, ident: str) -> str | None:
    """Why ``topic/scenario[ident]`` names no case of tests/, or None when it does: the module
    of the topic, its test function, and every part of the pytest id among its literals."""
    module = ROOT / "tests" / f"test_{topic.replace('-', '_')}.py"
    if not module.is_file():
        return f"no module {module.name}"
    tree = ast.parse(module.read_text(encoding="utf-8"))
    if f"test_{scenario.replace('-', '_')}" not in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}:
        return f"no test_{scenario.replace('-', '_')} in {module.name}"
    literals = {"cubic", "bbr"}  # conftest's cc fixture takes them from a list of names
    for path in (module, ROOT / "tests" / "conftest.py"):
        literals |= param_ids(ast.parse(path.read_text(encoding="utf-8")))

    def made_of_literals(rest: str) -> bool:
        # the id joins the ids of stacked parametrizations with "-"
        return rest == "" or any(rest[:i] in literals and made_of_literals(rest[i + 1:])
                                 for i in range(1, len(rest) + 1) if i == len(rest) or rest[i] == "-")

    return None if made_of_literals(ident) else f"the id {ident!r} is not made of {module.name}'s ids"


def test_the_readme_keys_name_cases():
    keys = readme_keys()
    assert keys, "the README shows no example key"
    for topic, scenario, ident in keys:
        assert names_a_case(topic, scenario, ident) is None, (topic, scenario, ident, names_a_case(topic, scenario, ident))


def test_a_key_of_no_case_is_refused():
    assert names_a_case("epollout", "out-of-space-then-acks", "ET-cubic-ipv4-eagain") is not None
    assert names_a_case("epollout", "no-such-scenario", "ET") is not None
    assert names_a_case("epollout", "out-of-space-then-acks", "ET-cubic-ipv4-fill-until-eagain") is None


def _behaviour(text: str) -> tuple[set[str], set[str]]:
    """The Debian releases a text says return EAGAIN under memory pressure, and those it says
    force progress ("Debian 6.1.192, 6.12.118 and 7.2.13 force progress")."""
    flat = " ".join(text.split())

    def releases(phrase: str) -> set[str]:
        return {r for m in re.finditer(r"Debian ((?:\d+\.\d+\.\d+(?:, | and )?)+) " + phrase, flat)
                for r in re.findall(r"\d+\.\d+\.\d+", m.group(1))}
    return releases("returns EAGAIN"), releases("force progress")


def test_the_readme_says_what_the_memory_pressure_scenario_says():
    tree = ast.parse((ROOT / "tests" / "test_write_space_edges.py").read_text(encoding="utf-8"))
    doc = next(ast.get_docstring(n) for n in ast.walk(tree)
               if isinstance(n, ast.FunctionDef) and n.name == "test_memory_pressure_on_an_empty_socket")
    paragraph = README[README.index("One rule of the model has no mutant"):]
    paragraph = paragraph[:paragraph.index("\n\n")]
    said, scenario = _behaviour(paragraph), _behaviour(doc)
    assert said == scenario and all(said), (said, scenario)
    assert _behaviour("Debian 5.10.262 and 6.12.1 force progress") != scenario  # the old, wrong claim
