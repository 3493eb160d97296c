"""The package layout: every folder is a stage of the method's flow and imports only point down; no module takes a
private name from another; ``import activation_rm`` (and the command line's parser) loads no torch; ``__all__`` is
the public surface and every name in it resolves."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import activation_rm

PACKAGE = Path(activation_rm.__file__).parent
#: the stages, lowest first: a module may import its own stage and the stages before it, never a later one
STAGES = ("version", "inputs", "model", "judge", "forward", "fit", "scoring", "eval", "integrations", "serve", "apps")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str | None:
    """The stage of ``activation_rm.<stage>[...]``; None for the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names taken from it) for every import of the file, at any depth, relative ones
    included (as written: a relative import is reported with a leading dot)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, "." * node.level + (node.module or ""), [alias.name for alias in node.names]))
    return out


def test_every_module_is_in_a_stage():
    strays = [m for m in MODULES if m != "activation_rm" and stage_of(m) not in STAGES]
    assert not strays, f"modules outside the stages {STAGES}: {strays}"


@pytest.mark.parametrize("module", [m for m in MODULES if m != "activation_rm"])
def test_imports_point_down_and_take_no_private_names(module):
    """A stage imports itself and the stages below it, absolutely; no module imports the package root (the lazy
    public surface sits above everything) or a ``_private`` name of another module."""
    own = STAGES.index(stage_of(module))
    problems = []
    for line, target, names in imports(MODULES[module]):
        where = f"{module}:{line}"
        if target.startswith("."):
            problems.append(f"{where}: relative import {target!r}; write it as activation_rm.<stage>...")
            continue
        if target != "activation_rm" and not target.startswith("activation_rm."):
            continue
        if target == "activation_rm":
            # "from activation_rm import <subpackage>" names a stage; anything else is the public surface
            subs = [n for n in names if n in STAGES]
            if len(subs) != len(names) or not names:
                problems.append(f"{where}: imports the package root (its lazy exports); import the defining module")
            for sub in subs:
                if STAGES.index(sub) > own:
                    problems.append(f"{where}: imports stage {sub!r} from stage {STAGES[own]!r}")
            continue
        theirs = stage_of(target)
        if theirs not in STAGES:
            problems.append(f"{where}: imports {target}, which is in no stage")
        elif STAGES.index(theirs) > own:
            problems.append(f"{where}: imports {target} (stage {theirs!r}) from stage {STAGES[own]!r}")
        if target != module:
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                problems.append(f"{where}: takes private name(s) {private} from {target}")
    assert not problems, "\n".join(problems)


def test_the_import_check_catches_upward_and_private_imports(tmp_path, monkeypatch):
    """The check above is not vacuous: an upward import and a private one are both reported."""
    bad = tmp_path / "data.py"
    bad.write_text("from activation_rm.scoring.engine import ModelSet\n"
                   "def f():\n    from activation_rm.model.backbone import _secret\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "activation_rm.inputs.data", bad)
    with pytest.raises(AssertionError) as caught:
        test_imports_point_down_and_take_no_private_names("activation_rm.inputs.data")
    message = str(caught.value)
    assert "activation_rm.scoring.engine (stage 'scoring') from stage 'inputs'" in message
    assert "stage 'model') from stage 'inputs'" in message and "private name(s) ['_secret']" in message


def _modules_after(code: str, full: bool = False) -> set[str]:
    """Top-level module names (``full``: all names) in ``sys.modules`` after running ``code`` in a fresh
    interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, env=env)
    return set(out.stdout.split()) if full else {name.split(".")[0] for name in out.stdout.split()}


def test_import_activation_rm_loads_no_torch():
    loaded = _modules_after("import activation_rm")
    assert not loaded & {"torch", "transformers", "numpy"}, sorted(loaded & {"torch", "transformers", "numpy"})
    assert "activation_rm.version" not in _modules_after("import activation_rm", full=True)


def test_command_line_parser_loads_no_torch():
    """``activation-rm --help`` builds every verb's parser: torch and transformers load only in verb handlers,
    the package metadata only for ``--version``."""
    loaded = _modules_after("from activation_rm.apps.cli import build_parser\nbuild_parser()", full=True)
    heavy = {"torch", "transformers", "numpy", "fastapi", "ray", "activation_rm.version", "importlib.metadata"}
    assert not loaded & heavy, sorted(loaded & heavy)


def test_version_option_prints_the_package_version(capsys):
    from activation_rm.apps.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.splitlines()[0] == f"activation-rm {activation_rm.__version__}"


def test_public_surface_resolves():
    names = activation_rm.__all__
    assert len(names) == len(set(names))
    assert set(names) == set(activation_rm._EXPORTS)
    for name in names:
        value = getattr(activation_rm, name)
        assert value is not None, name
        if name != "__version__":
            assert value.__module__ == activation_rm._EXPORTS[name], name  # the defining module, not a re-export
    assert set(names) <= set(dir(activation_rm))
    with pytest.raises(AttributeError):
        activation_rm.head_hooks  # noqa: B018 (internals stay in their modules)


# ------------------------------------------------------------------------------------ tests mirror the modules
TESTS = Path(__file__).parent
#: stages whose test files carry the stage's name: their modules are named for their role in the stage (app, cli,
#: config, client, runner ...), which says little alone
PREFIXED_STAGES = ("eval", "integrations", "serve")
#: test files that check the package across modules rather than one module, and why
CROSS_CUTTING = {
    "test_layout.py": "the package layout, the public surface and this mapping",
    "test_docs.py": "the documentation's commands, links and generated tables",
    "test_paper_oracle.py": "the library against an independent implementation of the paper (paper_oracle.py)",
    "test_perf_exact.py": "the fast paths change no number",
    "test_perf_memory.py": "memory is bounded by the batch budget on every scoring path",
    "test_text_guard.py": "special-token strings in user text stay text on every path",
    "test_serve_fuzz.py": "property-based fuzzing of the server's request bodies",
    "test_embedded.py": "end to end on the embedded real model (slow)",
}


def mirror_test_file(module: str) -> str:
    """The test file of ``activation_rm.<stage>.<name>``: ``test_<name>.py``, or ``test_<stage>_<name>.py`` for the
    stages in :data:`PREFIXED_STAGES`."""
    stage, name = stage_of(module), module.rsplit(".", 1)[-1]
    return f"test_{stage}_{name}.py" if stage in PREFIXED_STAGES and stage != name else f"test_{name}.py"


#: every module with code of its own (a package's ``__init__`` only says what the stage holds)
CODE_MODULES = sorted(m for m, path in MODULES.items() if path.name != "__init__.py")


def test_every_module_has_its_own_test_file():
    missing = [f"{module} -> tests/{mirror_test_file(module)}" for module in CODE_MODULES
               if not (TESTS / mirror_test_file(module)).is_file()]
    assert not missing, "modules without their test file:\n" + "\n".join(missing)
    names = [mirror_test_file(module) for module in CODE_MODULES]
    assert len(names) == len(set(names)), "two modules map to one test file"


def test_every_test_file_mirrors_a_module_a_benchmark_or_is_cross_cutting():
    """No test file under an old or invented name: each one is a module's, a benchmark script's
    (``test_benchmark_<name>.py`` for ``benchmarks/<name>.py``) or one of :data:`CROSS_CUTTING`."""
    mirrors = {mirror_test_file(module) for module in CODE_MODULES}
    benchmarks = TESTS.parent / "benchmarks"
    strays = [path.name for path in sorted(TESTS.glob("test_*.py"))
              if path.name not in mirrors and path.name not in CROSS_CUTTING
              and not (path.name.startswith("test_benchmark_")
                       and (benchmarks / (path.name.removeprefix("test_benchmark_"))).is_file())]
    assert not strays, f"test files that mirror no module: {strays}"
    assert all((TESTS / name).is_file() for name in CROSS_CUTTING)


def test_the_mapping_rule():
    assert mirror_test_file("activation_rm.version") == "test_version.py"
    assert mirror_test_file("activation_rm.forward.shared_prefix") == "test_shared_prefix.py"
    assert mirror_test_file("activation_rm.serve.images") == "test_serve_images.py"
    assert mirror_test_file("activation_rm.inputs.images") == "test_images.py"
    assert mirror_test_file("activation_rm.integrations.trl") == "test_integrations_trl.py"


def test_the_mirror_checks_catch_a_missing_and_a_stray_file(tmp_path, monkeypatch):
    for name in [mirror_test_file(m) for m in CODE_MODULES if m != "activation_rm.scoring.engine"]:
        (tmp_path / name).touch()
    for name in [*CROSS_CUTTING, "test_multi.py"]:
        (tmp_path / name).touch()
    monkeypatch.setattr(sys.modules[__name__], "TESTS", tmp_path)
    with pytest.raises(AssertionError, match=r"activation_rm\.scoring\.engine -> tests/test_engine\.py"):
        test_every_module_has_its_own_test_file()
    with pytest.raises(AssertionError, match=r"\['test_multi\.py'\]"):
        test_every_test_file_mirrors_a_module_a_benchmark_or_is_cross_cutting()
