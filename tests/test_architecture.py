"""The package layout, enforced: stages import one way (docs/design.md, "Package layout").

Data flows spec → model → inference → worlds → engine → results → pipeline → analyses →
backtest → plots → report → explore → cli, and a module may import only from its own stage, the
stages it is allowed below, and the shared modules. The rule is checked statically on every
``import`` under ``riskmodel/`` (imports inside functions count; imports under
``if TYPE_CHECKING:`` do not, since they never run) and at run time in a fresh interpreter,
because Python runs every parent package's ``__init__`` before a submodule.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from cli_probe import cli_loads

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "riskmodel"
TESTS = ROOT / "tests"

# ---------------------------------------------------------------------------------------------
# The rule, as data.
# ---------------------------------------------------------------------------------------------

# Importable from anywhere; they import nothing of riskmodel but each other.
SHARED = (
    "riskmodel.errors",
    "riskmodel.randomness",
    "riskmodel.io",
    # what a path the user names is, and what a results file must hold
    "riskmodel.paths",
    "riskmodel.resultsfile",
    "riskmodel.defaults",
    # garbage-collector settings for one-shot work (a command, an atomic write)
    "riskmodel.collector",
)

# Entry points above every stage: the top package (lazy PEP 562 re-exports of the notebook
# verbs) and ``python -m riskmodel``. Not held to a stage's rule.
FACADE = ("riskmodel", "riskmodel.__main__")

# Stages in the order data flows.
STAGES = (
    "spec",
    "budget",
    "model",
    "inference",
    "worlds",
    "engine",
    "results",
    "pipeline",
    "analyses",
    "backtest",
    "plots",
    "report",
    "explore",
    "cli",
)

_BELOW_PIPELINE = (
    "riskmodel.spec",
    "riskmodel.budget",
    "riskmodel.model",
    "riskmodel.inference",
    "riskmodel.worlds",
    "riskmodel.engine",
    "riskmodel.results",
)

# What a stage may import besides its own stage and SHARED. An entry names a module or a
# package; a package covers its submodules ("riskmodel.model" allows "riskmodel.model.priors",
# "riskmodel.model.layout" allows only that module).
ALLOWED: dict[str, tuple[str, ...]] = {
    "spec": (),
    # the memory a run will need, estimated from the scenario before anything is allocated
    "budget": ("riskmodel.spec",),
    "model": ("riskmodel.spec",),
    "inference": ("riskmodel.model", "riskmodel.spec"),
    "worlds": ("riskmodel.model", "riskmodel.spec"),
    "engine": ("riskmodel.worlds.arrays",),
    # results label its arrays with the entity names of the layout (sides, votes, chambers)
    "results": ("riskmodel.engine", "riskmodel.worlds.arrays", "riskmodel.model.layout"),
    "pipeline": _BELOW_PIPELINE,
    "analyses": (
        "riskmodel.pipeline",
        "riskmodel.results",
        "riskmodel.engine",
        "riskmodel.worlds",
        "riskmodel.spec",
        "riskmodel.model.layout",
        "riskmodel.model.variables",
    ),
    "backtest": (*_BELOW_PIPELINE, "riskmodel.pipeline"),
    "plots": ("riskmodel.results",),
    "report": ("riskmodel.results", "riskmodel.plots", "riskmodel.spec"),
    # the live explorer: worlds sampled once, deals evaluated on them, reports for the deals it keeps
    "explore": (
        "riskmodel.pipeline",
        "riskmodel.engine",
        "riskmodel.worlds",
        "riskmodel.results",
        "riskmodel.analyses",
        "riskmodel.spec",
        "riskmodel.model.layout",
        "riskmodel.report",
    ),
    "cli": tuple(f"riskmodel.{stage}" for stage in STAGES if stage != "cli"),
}

# Modules held to a stricter rule than their stage: the complete list of riskmodel modules
# they may import (their own stage and SHARED are not added).
MODULE_ALLOWED: dict[str, tuple[str, ...]] = {
    # the engine's input contract: NumPy alone
    "riskmodel.worlds.arrays": ("riskmodel.errors",),
}

# Only the command line itself and ``python -m riskmodel`` may import the command line.
CLI = "riskmodel.cli"
CLI_IMPORTERS = ("riskmodel.cli", "riskmodel.__main__")

# Third-party packages a module's import closure must not load, checked in a fresh interpreter.
ENGINE_FORBIDDEN = ("pydantic", "yaml", "pymc", "pytensor", "pandas", "matplotlib", "jinja2", "typer")
# The engine's own third-party dependencies, imported first: what they load by themselves is not
# the engine's doing (numba's config module imports PyYAML whenever it is installed).
ENGINE_DEPENDENCIES = ("numpy", "numba", "scipy.special")
REPORT_FORBIDDEN = ("riskmodel.engine", "riskmodel.pipeline", "pymc")
TOP_FORBIDDEN = ("pymc", "pytensor")

MAX_MODULE_LINES = 400


# ---------------------------------------------------------------------------------------------
# The import graph.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a riskmodel module."""

    source: str
    target: str
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_modules() -> dict[str, Path]:
    return {
        _module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in path.parts
    }


MODULES = _package_modules()


def _is_package(module: str) -> bool:
    return MODULES.get(module, Path()).name == "__init__.py"


def _is_riskmodel(name: str) -> bool:
    return name == "riskmodel" or name.startswith("riskmodel.")


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _from_base(module: str, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from ... import`` reads from (None if not of this package)."""
    if node.level == 0:
        return node.module
    package = module if _is_package(module) else module.rpartition(".")[0]
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, skip_type_checking: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (inside functions too)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if skip_type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolved(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Each riskmodel module a statement imports.

    ``from pkg import name`` imports ``pkg.name`` when that is a submodule, else ``pkg``.
    """
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if _is_riskmodel(alias.name))
        return
    base = _from_base(module, node)
    if base is None or not _is_riskmodel(base):
        return
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in MODULES else base


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@cache
def _imports() -> tuple[Import, ...]:
    """Every import of a riskmodel module by a riskmodel module (TYPE_CHECKING blocks aside)."""
    found = []
    for module, path in MODULES.items():
        for node in _import_nodes(_parse(path), skip_type_checking=True):
            for target in _resolved(module, node):
                if target != module:
                    found.append(Import(module, target, path, node.lineno))
    return tuple(found)


def _stage(module: str) -> str | None:
    """The stage a module belongs to: "shared", "facade", one of STAGES, or None."""
    if module in SHARED:
        return "shared"
    if module in FACADE:
        return "facade"
    first = module.split(".")[1]
    return first if first in STAGES else None


def _allowed(source: str, target: str) -> bool:
    if source in MODULE_ALLOWED:
        return any(_within(target, entry) for entry in MODULE_ALLOWED[source])
    if target in SHARED:
        return True
    stage = _stage(source)
    if stage == "facade":
        return True
    if stage == "shared" or stage is None:
        return False
    if _stage(target) == stage:
        return True
    return any(_within(target, entry) for entry in ALLOWED[stage])


def _edges(imports: list[Import]) -> list[str]:
    """``a -> b  (file:line)`` once per edge, at its first import."""
    first: dict[tuple[str, str], Import] = {}
    for item in imports:
        first.setdefault((item.source, item.target), item)
    return [f"{a} -> {b}  ({item.where})" for (a, b), item in sorted(first.items())]


# ---------------------------------------------------------------------------------------------
# Static checks.
# ---------------------------------------------------------------------------------------------


def test_rule_table_names_every_stage() -> None:
    assert set(ALLOWED) == set(STAGES)
    for entries in [*ALLOWED.values(), *MODULE_ALLOWED.values()]:
        for entry in entries:
            assert entry.split(".")[1] in (*STAGES, "errors", "randomness", "io"), entry


def test_every_module_belongs_to_a_stage() -> None:
    homeless = sorted(module for module in MODULES if _stage(module) is None)
    assert not homeless, "modules outside every stage (add them to a stage package):\n" + "\n".join(homeless)


def test_every_riskmodel_import_names_a_module() -> None:
    dangling = _edges([item for item in _imports() if item.target not in MODULES])
    assert not dangling, "imports of riskmodel modules that do not exist:\n" + "\n".join(dangling)


def test_stages_import_only_allowed_stages() -> None:
    offending = _edges([item for item in _imports() if not _allowed(item.source, item.target)])
    assert not offending, "imports against the layering rule:\n" + "\n".join(offending)


def test_nothing_imports_the_command_line() -> None:
    offending = _edges(
        [
            item
            for item in _imports()
            if _within(item.target, CLI) and not any(_within(item.source, entry) for entry in CLI_IMPORTERS)
        ]
    )
    assert not offending, "only riskmodel.cli and riskmodel.__main__ import riskmodel.cli:\n" + "\n".join(
        offending
    )


def test_riskmodel_modules_are_imported_by_statement_not_by_string() -> None:
    # The static graph cannot see ``importlib.import_module(name)``, so a dynamic import would
    # escape every check above; the report's sections are a registry by direct reference.
    offending = []
    for module, path in MODULES.items():
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if name in {"import_module", "__import__"}:
                offending.append(f"{module}  ({path.relative_to(ROOT)}:{node.lineno})")
    assert not offending, "imports by string:\n" + "\n".join(offending)


def _graph() -> dict[str, set[str]]:
    # The façade's lazy re-exports reach every stage from above; they are not part of the flow.
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for item in _imports():
        if item.source not in FACADE and item.target in MODULES:
            graph[item.source].add(item.target)
    return graph


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = component[0]
    members = set(component)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if child not in parent:
                    parent[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component has one


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles = [
        " -> ".join(_shortest_cycle(graph, component))
        for component in _strongly_connected(graph)
        if len(component) > 1
    ]
    assert not cycles, "import cycles (one path per cycle):\n" + "\n".join(cycles)


def test_no_module_is_too_long() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (usually two modules):\n" + "\n".join(
        f"{path}: {lines}" for path, lines in sorted(long.items())
    )


# ---------------------------------------------------------------------------------------------
# Private names stay private.
# ---------------------------------------------------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_uses(module: str, path: Path) -> Iterator[str]:
    """Private names of other riskmodel modules that a file imports or reads as attributes."""
    tree = _parse(path)

    def where(node: ast.AST) -> str:
        return f"  ({path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')})"

    bound: dict[str, str] = {}  # local name -> riskmodel module it is bound to
    for node in _import_nodes(tree, skip_type_checking=False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_riskmodel(alias.name):
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        bound.setdefault("riskmodel", "riskmodel")
                    parts = alias.name.split(".")
                    # a private submodule is private to its package
                    if any(
                        _private(part) and not _within(module, ".".join(parts[:i]))
                        for i, part in enumerate(parts)
                    ):
                        yield f"import {alias.name}" + where(node)
            continue
        base = _from_base(module, node)
        if base is None or not _is_riskmodel(base):
            continue
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in MODULES:
                bound[alias.asname or alias.name] = submodule
                if _private(alias.name) and not _within(module, base):
                    yield f"from {base} import {alias.name}" + where(node)
            elif _private(alias.name) and base != module:
                yield f"from {base} import {alias.name}" + where(node)
    if not bound:
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        owner = _dotted(node.value, bound)
        if owner is not None and owner != module:
            yield f"{owner}.{node.attr}" + where(node)


def _dotted(node: ast.expr, bound: dict[str, str]) -> str | None:
    """The riskmodel module an expression such as ``engine_core`` or ``riskmodel.engine.core`` names."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value, bound)
        if owner is not None and f"{owner}.{node.attr}" in MODULES:
            return f"{owner}.{node.attr}"
    return None


def _test_files() -> dict[str, Path]:
    return {
        f"tests.{path.stem}": path
        for path in sorted(TESTS.rglob("*.py"))
        if "fixtures" not in path.relative_to(TESTS).parts and "__pycache__" not in path.parts
    }


def test_no_private_names_cross_modules() -> None:
    offending = [
        f"{module}: {use}"
        for module, path in {**MODULES, **_test_files()}.items()
        for use in _private_uses(module, path)
    ]
    assert not offending, "private names used outside their module (make them public or move the test):\n" + (
        "\n".join(offending)
    )


# ---------------------------------------------------------------------------------------------
# Run-time checks: what an import really loads, in a fresh interpreter.
# ---------------------------------------------------------------------------------------------

_PROBE = """
import importlib, json, sys
def loaded():
    return {{f for f in {forbidden!r} if any(m == f or m.startswith(f + ".") for m in sys.modules)}}
for name in {baseline!r}:
    importlib.import_module(name)
before = loaded()
for name in {modules!r}:
    importlib.import_module(name)
print(json.dumps(sorted(loaded() - before)))
"""


def _loaded(modules: list[str], forbidden: tuple[str, ...], *, baseline: tuple[str, ...] = ()) -> list[str]:
    """Which of ``forbidden`` importing ``modules`` loads beyond ``baseline``, in a fresh interpreter."""
    code = _PROBE.format(modules=modules, forbidden=forbidden, baseline=baseline)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"importing {modules} failed:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _with_modules(package: str) -> list[str]:
    """A package and every module in it: each must keep the package's rule."""
    return [package, *sorted(module for module in MODULES if module.startswith(package + "."))]


@pytest.mark.parametrize("package", ["riskmodel.engine", "riskmodel.worlds.arrays"])
def test_engine_loads_numpy_only(package: str) -> None:
    loaded = _loaded(_with_modules(package), ENGINE_FORBIDDEN, baseline=ENGINE_DEPENDENCIES)
    assert not loaded, f"importing {package} loads {loaded}"


def test_report_loads_neither_engine_nor_pymc() -> None:
    loaded = _loaded(_with_modules("riskmodel.report"), REPORT_FORBIDDEN)
    assert not loaded, f"importing riskmodel.report loads {loaded}"


def test_top_package_loads_no_pymc() -> None:
    loaded = _loaded(["riskmodel"], TOP_FORBIDDEN)
    assert not loaded, f"importing riskmodel loads {loaded}: its re-exports must be lazy (PEP 562)"


# ---------------------------------------------------------------------------------------------
# Start-up: what the light commands load.
# ---------------------------------------------------------------------------------------------

# What `riskmodel --help`, `--version` and `validate` must never import: each costs tenths of a
# second to seconds at start-up, and none of them is needed to print help or check a scenario.
CLI_STARTUP_FORBIDDEN = (
    "pymc",
    "pytensor",
    "numba",
    "arviz",
    "arviz_stats",
    "scipy.stats",
    "matplotlib",
    "preliz",
    "xarray",
    "dask",
    "distributed",
)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["run", "--help"], ["validate", "data/scenarios/usmca_2019.yaml"]],
    ids=["help", "run-help", "validate"],
)
def test_light_commands_load_no_heavy_package(argv: list[str]) -> None:
    exit_code, loaded = cli_loads(argv, CLI_STARTUP_FORBIDDEN, timeout=300)
    assert exit_code in (0, None), f"riskmodel {' '.join(argv)} exited with {exit_code}"
    assert not loaded, (
        f"riskmodel {' '.join(argv)} imports {loaded}: import them inside the command that needs them"
    )


# Help needs neither the data stack nor the scenario schema: printing it stays within a few
# times Python's own start-up.
HELP_FORBIDDEN = (*CLI_STARTUP_FORBIDDEN, "numpy", "pandas", "yaml")


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]], ids=["help", "run-help"])
def test_help_loads_no_data_stack(argv: list[str]) -> None:
    _, loaded = cli_loads(argv, HELP_FORBIDDEN, timeout=300)
    assert not loaded, f"riskmodel {' '.join(argv)} imports {loaded}"


def test_command_line_module_loads_no_heavy_package() -> None:
    # what `riskmodel --version` needs: the app and its option defaults, nothing heavy
    loaded = _loaded(["riskmodel.cli.app"], CLI_STARTUP_FORBIDDEN)
    assert not loaded, f"importing riskmodel.cli.app loads {loaded}"


def test_cached_elicited_prior_does_not_import_preliz(tmp_path: Path) -> None:
    # the PreliZ cache key is read from package metadata: a cached fit must not import PreliZ
    code = f"""
import json, os, sys
os.environ["XDG_CACHE_HOME"] = {str(tmp_path)!r}
from riskmodel.spec.priors import Elicited, concrete_prior
fitted = concrete_prior(Elicited(between=(0.1, 0.4), mass=0.9, family="beta"))
print(json.dumps(["preliz" in sys.modules, fitted.model_dump()]))
"""

    def run() -> tuple[bool, object]:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr
        loaded, fitted = json.loads(done.stdout.strip().splitlines()[-1])
        return loaded, fitted

    fitted_with_preliz, first = run()  # empty cache: PreliZ fits and the fit is stored
    reimported, second = run()
    assert fitted_with_preliz and not reimported
    assert first == second
