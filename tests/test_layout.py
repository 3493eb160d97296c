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


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    from activation_rm.version import __version__

    assert activation_rm.__version__ == __version__ == version("activation-rm")
