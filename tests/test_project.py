"""The project's own rules: declared dependencies, one version, lint, and the direction of imports."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from support import ROOT, require

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE = ROOT / "derive"


def imports_of(path):
    """Top-level module names and derive sub-modules imported by one source file, resolved to absolute names."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def test_every_third_party_import_is_declared():
    declared = {d.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
                for d in PYPROJECT["project"]["dependencies"]}
    used = {name.split(".")[0] for path in PACKAGE.rglob("*.py") for name in imports_of(path)}
    third_party = {name for name in used if name not in sys.stdlib_module_names and name not in ("derive", "__future__")}
    optional = {"IPython"}  # only behind the optional `jupyter` extra, imported where it is used
    assert {name.lower() for name in third_party - optional} <= declared, third_party - optional - declared
    assert third_party >= {"sympy", "numpy", "jinja2", "markupsafe"}


def test_version_is_in_one_place_and_the_command_prints_it():
    import derive

    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "derive.__version__"}
    result = subprocess.run([sys.executable, "-m", "derive", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == f"derive {derive.__version__}\n"


def test_sympy_is_pinned_to_a_tested_range():
    import sympy

    pin = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("sympy"))
    low, high = pin.removeprefix("sympy>=").split(",<")
    version = tuple(int(p) for p in sympy.__version__.split(".")[:2])
    assert tuple(int(p) for p in low.split(".")[:2]) <= version < tuple(int(p) for p in high.split("."))


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    require("ruff", ruff is not None, 'pip install ".[test]" installs it')
    result = subprocess.run([ruff, "check", "derive", "tests", "benchmarks"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout[-3000:]


LAYERS = {"model": set(), "engine": {"model"}, "report": {"model", "engine"}, "grading": {"model", "engine", "report"}}


# The pipeline (derive.api) and the command line sit above the layers they run: model, engine and
# report are handed what they need (the report gets the run as it carries numbers) and import neither.
# Grading runs the pipeline (derive check trains the run it marks against) and may import derive.api.
ABOVE = {"model": {"api", "cli"}, "engine": {"api", "cli"}, "report": {"api", "cli"}, "grading": {"cli"}}
# The one exception: Problem.train(), the public API's convenience on a problem, hands the problem
# to the pipeline when called.
CONVENIENCE = {("derive/model/problem.py", "derive.api")}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_imports_point_from_model_to_engine_to_report(layer):
    """model imports nothing from engine, report or grading; engine nothing from report or grading;
    report nothing from grading; grading nothing from the command line; model, engine and report
    nothing from the pipeline or the command line (but Problem's convenience calls)."""
    forbidden = set(LAYERS) - LAYERS[layer] - {layer} | ABOVE[layer]
    wrong = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        source = str(path.relative_to(ROOT))
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "derive" and len(parts) > 1 and parts[1] in forbidden:
                if (source, ".".join(parts[:2])) not in CONVENIENCE:
                    wrong.append(f"{source} imports {name}")
    assert not wrong, "\n".join(wrong)


TESTS = ROOT / "tests"


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_tests_import_helpers_from_a_plain_module_and_time_nothing(path):
    """Helpers come from support.py, not conftest (pytest loads conftest itself); no test reads a clock."""
    names = imports_of(path)
    assert not {n for n in names if n.split(".")[0] == "conftest"}, "import helpers from support, not conftest"
    clocks = {"time.time", "time.perf_counter", "time.monotonic", "time.process_time", "timeit"}
    used = {f"{node.value.id}.{node.attr}" for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    assert not (used | names) & clocks, "speed is measured in benchmarks/, never asserted in tests"


def test_readme_lists_every_template_a_user_may_replace():
    """The README's --templates row names every shipped block of the report (the worksheet is the
    exercise command's, which takes no --templates), and nothing that is not shipped."""
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `--templates DIR`"))
    listed = set(re.findall(r"`(\w+)`", row.split("file by file:")[1].split("`DIR/notes.j2`")[0]))
    templates = PACKAGE / "report" / "templates"
    shipped = {path.name.split(".")[0] for path in templates.glob("*/*.j2")} - {"worksheet"}
    assert listed == shipped, (sorted(shipped - listed), sorted(listed - shipped))
    assert (templates / "notes.j2").is_file()
