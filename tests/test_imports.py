"""The import floors of the house rule: no module imports a higher floor, and no modules import each other.

Floors, lowest first: the private base modules (``_pairs``, ``_validation``,
``_settings``, ``_io``, ``_metrics``); ``models``, ``pp`` and ``ds`` (which
read AnnData and tables through the base modules only); ``tl``; ``pl`` and
``bm`` (built on ``tl``); the package ``grnlink`` itself (it re-exports every
subpackage); the command line ``_cli`` (built on the public package: its demo
runs ``bm``). A module may import its own subpackage or a lower floor. Every
import statement counts, those inside functions included, and importing
``grnlink.x.y`` also runs ``grnlink/x/__init__.py``, so that import reaches
``x``'s package as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import grnlink

SOURCE = Path(grnlink.__file__).parent
FLOORS = {"base": 0, "models": 1, "pp": 1, "ds": 1, "tl": 2, "pl": 3, "bm": 3, "package": 4, "cli": 5}


def module_files(root: Path, package: str = "grnlink") -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file below ``root`` (a package named ``package``)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def floor_group(module: str) -> str:
    """The group of the floor table that ``module`` (dotted, below the package) belongs to."""
    parts = module.split(".")[1:]
    if not parts:
        return "package"
    if parts[0] == "_cli":
        return "cli"
    return parts[0] if len(parts) > 1 or not parts[0].startswith("_") else "base"


def imports(modules: dict[str, Path], root_name: str = "grnlink") -> dict[str, set[tuple[str, int]]]:
    """Module -> the (module of the package it imports, line) pairs, implicit package imports included."""
    found: dict[str, set[tuple[str, int]]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = found.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = (name if is_package else name.rpartition(".")[0]).split(".")
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                if target != root_name and not target.startswith(root_name + "."):
                    continue
                assert target in modules, f"{path}:{node.lineno} imports {target}, which is not a module of the package"
                edges.add((target, node.lineno))
                # importing a.b.c runs a.b's __init__ first, unless the importer is inside a.b already
                parts = target.split(".")
                for depth in range(2, len(parts)):
                    package = ".".join(parts[:depth])
                    if name != package and not name.startswith(package + "."):
                        edges.add((package, node.lineno))
    return found


def upward_imports(found: dict[str, set[tuple[str, int]]]) -> list[str]:
    """``importer:line -> target`` for every import of a module on a higher floor, or beside it in another group."""
    bad = []
    for name, edges in found.items():
        group = floor_group(name)
        for target, line in sorted(edges):
            other = floor_group(target)
            if other != group and FLOORS[other] >= FLOORS[group]:
                bad.append(
                    f"{name}:{line} ({group}, floor {FLOORS[group]}) -> {target} ({other}, floor {FLOORS[other]})"
                )
    return bad


def import_cycles(found: dict[str, set[tuple[str, int]]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (each sorted)."""
    graph = {name: {target for target, _ in edges} for name, edges in found.items()}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for target in graph[todo.pop()] - seen:
                seen.add(target)
                todo.append(target)
        return seen

    reach = {name: reachable(name) for name in graph}
    cycles = {tuple(sorted(n for n in reach[name] if name in reach[n])) for name in graph if name in reach[name]}
    return sorted(list(cycle) for cycle in cycles)


def test_every_subpackage_has_a_floor():
    groups = {floor_group(name) for name in module_files(SOURCE)}
    assert groups <= set(FLOORS), f"give {sorted(groups - set(FLOORS))} a floor in FLOORS (tests/test_imports.py)"


def test_no_module_imports_a_higher_floor():
    bad = upward_imports(imports(module_files(SOURCE)))
    assert not bad, "imports against the house rule (pl/bm/CLI -> tl -> models/pp -> base):\n" + "\n".join(bad)


def test_no_modules_import_each_other():
    cycles = import_cycles(imports(module_files(SOURCE)))
    assert not cycles, "modules importing each other:\n" + "\n".join(", ".join(cycle) for cycle in cycles)


@pytest.fixture
def toy_package(tmp_path):
    """A package with an upward import inside a function, and two modules importing each other."""
    files = {
        "__init__.py": "from . import bm, tl\n",
        "_validation.py": "",
        "tl/__init__.py": "from ._fit import fit\n",
        "tl/_fit.py": "from .._validation import x\n\ndef fit():\n    from ..bm._metrics import m\n",
        "tl/_a.py": "from . import _b\n",
        "tl/_b.py": "from ._a import y\n",
        "bm/__init__.py": "from ..tl import fit\n",
        "bm/_metrics.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return module_files(tmp_path)


def test_the_check_finds_a_lazy_upward_import_and_a_cycle(toy_package):
    found = imports(toy_package)
    assert ("grnlink.bm._metrics", 4) in found["grnlink.tl._fit"] and ("grnlink.bm", 4) in found["grnlink.tl._fit"]
    assert ("grnlink._validation", 1) in found["grnlink.tl._fit"]
    assert [line.split(" ")[0] for line in upward_imports(found)] == ["grnlink.tl._fit:4", "grnlink.tl._fit:4"]
    assert import_cycles(found) == [
        ["grnlink.bm", "grnlink.tl", "grnlink.tl._fit"],  # through bm's __init__, which runs first
        ["grnlink.tl._a", "grnlink.tl._b"],
    ]
