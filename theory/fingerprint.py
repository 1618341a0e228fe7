"""What code a run depends on, as one hash: the store's guard against handing back numbers the current code
would not produce.

A run executes a plugin's init, step and metrics, its family's generator, an optional compiled kernel and the
runner, and everything those modules import. The fingerprint hashes the source of every module reachable from
them through import statements (at module level or inside functions; ``if TYPE_CHECKING:`` blocks are not
run-time imports), limited to the packages those modules belong to and to ``theory`` itself, plus the versions
of the libraries that compute the numbers. Third-party libraries are covered by their versions, not their files.

``from package import name`` follows the name: to the submodule ``package.name`` if there is one, else to the
module that defines the object (so ``from theory import Gen`` covers ``theory/random.py`` even though
``theory`` resolves names lazily). An import done through ``importlib`` at run time is not seen.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterable
from pathlib import Path

from theory.backend import library_versions


def code_fingerprint(*objects: object) -> str:
    """A hash of the source files every module defining ``objects`` reaches through its imports, within the
    objects' own top-level packages and ``theory``, and of the library versions."""
    modules = sorted({name for obj in objects if (name := _module_of(obj))})
    files = reachable_files(tuple(modules))
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path}:{_file_digest(path)}\n".encode())
    digest.update(repr(sorted(library_versions().items())).encode())
    return digest.hexdigest()


@functools.cache
def reachable_files(modules: tuple[str, ...]) -> tuple[str, ...]:
    """Source files of ``modules`` and of every module they import, transitively, inside their own top-level
    packages and ``theory``."""
    roots = {name.partition(".")[0] for name in modules} | {"theory"}
    seen: dict[str, str] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen or name.partition(".")[0] not in roots:
            continue
        path = _source_path(name)
        if path is None:
            continue
        seen[name] = path
        todo.extend(_imports(name, path))
    return tuple(sorted(set(seen.values())))


def _module_of(obj: object) -> str | None:
    module = inspect.getmodule(obj)
    return module.__name__ if module is not None else getattr(obj, "__module__", None)


def _source_path(module: str) -> str | None:
    loaded = sys.modules.get(module)
    origin = getattr(loaded, "__file__", None)
    if origin is None:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        origin = spec.origin if spec is not None else None
    return origin if origin and origin.endswith(".py") else None


def _imports(module: str, path: str) -> Iterable[str]:
    """The modules that ``module`` (whose source is at ``path``) imports at run time."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    for node in _runtime_nodes(ast.parse(Path(path).read_bytes(), filename=path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else (node.module or "")
            yield base
            yield from (_target(base, alias.name) for alias in node.names if alias.name != "*")


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of ``tree`` except those inside ``if TYPE_CHECKING:`` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                todo.extend(child.orelse)
            else:
                todo.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _target(package: str, name: str) -> str:
    """What ``from package import name`` reaches: the submodule, or the module that defines the object; for a
    package that imports its names lazily (``theory``), the module its ``_HOMES`` table names, which also places
    a constant (``OCO_LINEAR``) or a re-exported library object (``jit``) that knows no module of its own."""
    submodule = f"{package}.{name}"
    if submodule in sys.modules:
        return submodule
    try:
        if importlib.util.find_spec(submodule) is not None:
            return submodule
    except (ImportError, ValueError):
        pass
    try:
        loaded = importlib.import_module(package)
        home = getattr(loaded, "_HOMES", {}).get(name)
        if home is not None:
            return f"{package}.{home.partition(':')[0]}"
        value = getattr(loaded, name)
    except (ImportError, AttributeError):
        return package
    return _module_of(value) or package


@functools.cache
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def forget() -> None:
    """Drop the cached file hashes and import closures (for a process that edits source as it runs: tests)."""
    reachable_files.cache_clear()
    _file_digest.cache_clear()
