"""The apps depend on each other one way, and no module imports its way round in a circle.

    sleekbatch (infrastructure) ← suppliers ← orders ← batches ← analytics

A lower app that needs work from a higher one sends a signal or a task by name; it never
imports it, not even inside a function (an import placed in a function to dodge a cycle is
still a cycle). Signal receivers are connected from ``AppConfig.ready()``, never as a module
is imported.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["sleekbatch", "suppliers", "orders", "batches", "analytics"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    return {_module_name(path): path for app in LAYERS for path in (ROOT / app).rglob("*.py")}


MODULES = _project_modules()


def _imports(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports, at module level or inside any function."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from batches import state`` imports the module batches.state
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            # ``import batches.pooling.claim`` or a name inside it: the longest project module it names
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def _upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if _layer(target) > _layer(module)
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_it_finds_the_modules_of_every_app():
    assert {module.split(".")[0] for module in MODULES} == set(LAYERS)
    assert "batches.pooling.claim" in GRAPH["batches.pooling.tasks"]


def test_no_app_imports_an_app_above_it():
    assert _upward_imports(GRAPH) == []


def test_orders_know_nothing_of_batches():
    assert [
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        if m.startswith("orders")
        for t in targets
        if t.startswith("batches")
    ] == []


def test_no_modules_import_each_other_in_a_circle():
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from batches.models import ProductionBatch", "upward"),
        ("def later():\n    from batches import state\n", "upward"),
        ("import analytics.models", "upward"),
        ("from suppliers.models import Supplier", None),
    ],
    ids=["module level", "inside a function", "plain import", "downward"],
)
def test_the_check_sees_an_upward_import_wherever_it_is(tmp_path, source, expected):
    # given: an orders module with this import
    path = tmp_path / "probe.py"
    path.write_text(source)

    # when
    found = _upward_imports({"orders.probe": _imports("orders.probe", path)})

    # then
    assert bool(found) == (expected == "upward")


def test_the_check_sees_a_cycle_through_a_function_level_import():
    graph = {"batches.models": {"batches.state"}, "batches.state": {"batches.models"}, "batches.fill": set()}
    assert _cycles(graph) == [["batches.models", "batches.state"]]


def _connections_at_import(tree: ast.Module) -> list[int]:
    """Lines where a module connects a signal receiver as it is imported (a decorator or a
    ``.connect(…)`` call outside any function), rather than from an ``AppConfig.ready()``."""
    lines = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (isinstance(target, ast.Attribute) and target.attr == "connect") or (
                    isinstance(target, ast.Name) and target.id == "receiver"
                ):
                    lines.append(decorator.lineno)
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "connect":
                lines.append(inner.lineno)
    return lines


def test_signal_receivers_are_connected_only_from_functions_that_ready_calls():
    connected_at_import = [
        f"{module}:{line}"
        for module, path in MODULES.items()
        for line in _connections_at_import(ast.parse(path.read_text()))
    ]
    assert connected_at_import == []


def test_the_receiver_check_sees_decorators_and_module_level_calls():
    source = (
        "@receiver(post_save, sender=Offer)\ndef a(**kw): ...\n"
        "@signals.task_success.connect\ndef b(**kw): ...\n"
        "post_delete.connect(a)\n"
        "def ready():\n    post_delete.connect(a)\n"
    )
    assert _connections_at_import(ast.parse(source)) == [1, 3, 5]
