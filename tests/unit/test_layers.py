"""The folders are layers that only point down (README, "What runs where"), and imports sit
at the top of modules. Read from the source with `ast`, so a new module is checked too."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# layer -> the layers it may import from (itself included); written out by hand, not derived
ALLOWED = {
    "schemas": {"schemas"},
    "samples": {"samples", "schemas"},
    "core": {"core", "schemas"},
    "ground": {"ground", "core", "schemas"},
    "connectors": {"connectors", "ground", "core", "schemas"},
    "archive": {"archive", "ground", "core", "schemas"},
    "catalog": {"catalog", "archive", "ground", "core", "schemas"},
    "duties": {"duties", "catalog", "archive", "ground", "core", "schemas"},
    "web": {"web", "catalog", "archive", "ground", "core", "schemas"},
    "transforms": {"transforms", "archive", "ground", "core", "schemas"},
    "pipelines": {"pipelines", "transforms", "catalog", "archive", "ground", "core", "schemas"},
    "roof": {"roof", "pipelines", "transforms", "web", "duties", "catalog", "archive", "ground", "core", "schemas",
             "connectors", "samples"},
}
FOLDERS = {"schemas", "samples", "core", "ground", "connectors", "archive", "catalog", "duties", "web",
           "transforms", "pipelines"}
# the only function-local imports in production code, each with its reason
LAZY = {("core/pseudonymise/names.py", "deduce")}   # heavy, and configures logging at import


def _modules():
    for folder in [*FOLDERS, "archiefstroom"]:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _layer_of_file(rel: str) -> str:
    top = rel.split("/")[0]
    return top if top in FOLDERS else "roof"


def _layer_of_import(name: str) -> str | None:
    """`archiefstroom.core.rules` -> core; None for third-party modules and the package's version."""
    parts = name.split(".")
    if parts[0] != "archiefstroom" or len(parts) == 1:
        return None
    return parts[1] if parts[1] in FOLDERS else "roof"


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node, a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "archiefstroom":   # from archiefstroom import schemas, __version__
                for a in node.names:
                    yield node, f"archiefstroom.{a.name}" if a.name != "__version__" else "archiefstroom"
            else:
                yield node, node.module


def test_every_import_points_down():
    wrong = []
    for rel, tree in _modules():
        mine = _layer_of_file(rel)
        for node, name in _imports(tree):
            target = _layer_of_import(name)
            if target is not None and target not in ALLOWED[mine]:
                wrong.append(f"{rel}:{node.lineno} ({mine}) imports {name} ({target})")
    assert wrong == []


def test_core_imports_nothing_of_the_application():
    # the issue's own check: grep "from archiefstroom.(config|settings|kafka|s3|cli|...)" core/
    for rel, tree in _modules():
        if rel.startswith("core/"):
            for _, name in _imports(tree):
                assert _layer_of_import(name) in (None, "core", "schemas"), (rel, name)


def test_imports_are_at_module_top_except_the_listed_heavy_ones():
    local = set()
    for rel, tree in _modules():
        top = set(map(id, tree.body))
        for node, name in _imports(tree):
            if id(node) not in top and not _guarded_at_top(tree, node):
                local.add((rel, name))
    assert local == LAZY


def _guarded_at_top(tree, node) -> bool:
    """An import inside a top-level `if TYPE_CHECKING:` or `try:` still runs at import time."""
    for stmt in tree.body:
        if isinstance(stmt, (ast.If, ast.Try)) and any(n is node for n in ast.walk(stmt)):
            return True
    return False
