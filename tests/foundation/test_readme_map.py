"""The README's "Where to look" table points at code that exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _where_to_look_targets() -> list[tuple[str, str]]:
    section = README.split("### Where to look", 1)[1].split("\n\n", 2)[1]
    targets = []
    for cell in re.findall(r"^\|[^|]*\|(.*)\|$", section, flags=re.MULTILINE):
        path = None
        for item in re.findall(r"`([^`]+)`", cell):
            if ":" in item:
                path, name = item.split(":", 1)
            elif "/" in item:
                continue  # a file mentioned in passing
            else:
                name = item  # a further name in the file named before it
            if path is not None:
                targets.append((path, name))
    return targets


def _name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id  # a module-level object such as a Signal
    return None


def _defines(path: Path, dotted: str) -> bool:
    scope = ast.parse(path.read_text()).body
    for part in dotted.split("."):
        found = next((node for node in scope if _name_of(node) == part), None)
        if found is None:
            return False
        scope = getattr(found, "body", [])
    return True


def test_every_step_of_the_table_names_a_function_or_class_that_exists():
    targets = _where_to_look_targets()
    missing = [
        f"{path}:{name}" for path, name in targets if not (ROOT / path).exists() or not _defines(ROOT / path, name)
    ]

    assert len(targets) >= 20
    assert missing == []
