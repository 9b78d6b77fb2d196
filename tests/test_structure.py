"""The package's imports run one way, schema -> panel -> models -> reporting, with no cycle (imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bstate_stats"
# a room may import only from rooms at its own level or below
LAYERS = [
    {"errors"},
    {"io", "diagnostics", "plots", "results"},
    {"schema"},
    {"panel"},
    {"simulate", "inference"},
    {"models"},
    {"reporting"},
    {"cli", "__init__", "__main__"},
]
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def typing_only(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    return skipped


def imports(path: Path) -> set[str]:
    """Package modules imported anywhere in ``path`` (inside functions too), except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skipped, found = typing_only(tree), set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bstate_stats")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("bstate_stats"):
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        targets = set()
        for target in imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target not in (name, "bstate_stats"):
                targets.add(target)
        edges[name] = targets
    return edges


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def level(module: str) -> int:
    return next(k for k, rooms in enumerate(LAYERS) if room(module) in rooms)


def test_no_import_cycle():
    edges, state, cycles = graph(), {}, []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in edges[node]:
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in edges:
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_imports_run_one_way():
    edges = graph()
    upward = [f"{m} imports {t}" for m, targets in edges.items() for t in targets if level(t) > level(m)]
    assert not upward, upward


def test_every_room_is_placed_and_modules_stay_small():
    rooms = {room(m) for m in graph()}
    assert rooms <= set().union(*LAYERS), rooms - set().union(*LAYERS)
    long = [f"{p.relative_to(PACKAGE)} ({n})" for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, long


def test_the_checker_sees_an_upward_import():
    """The checks above can fail: a planted upward import is found."""
    edges = graph()
    edges["bstate_stats.schema.spec"] = {*edges["bstate_stats.schema.spec"], "bstate_stats.models.fixed_effects.estimate"}
    assert any(level(t) > level(m) for m, targets in edges.items() for t in targets)


def test_public_functions_document_parameters_and_returns():
    import inspect

    import bstate_stats as bs

    functions = {name: getattr(bs, name) for name in bs.__all__ if inspect.isfunction(getattr(bs, name))}
    undocumented = [name for name, f in functions.items() if not all(f"\n{s}\n" in inspect.getdoc(f) + "\n" for s in ("Parameters", "Returns"))]
    assert len(functions) >= 10 and not undocumented, undocumented
