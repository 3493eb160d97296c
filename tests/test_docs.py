"""The documentation builds and tells the truth: ``mkdocs build --strict`` passes (broken links, anchors, missing
pages and stale API names fail it), the result tables match the files under results/, and the README's commands
exist as written (every verb and option is checked against ``--help``, the cheap ones are run)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _env() -> dict[str, str]:
    """This interpreter's environment first on PATH, so ``activation-rm`` is the one installed with it."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "NO_MKDOCS_2_WARNING": "1",
            "COLUMNS": "100"}


# ----------------------------------------------------------------------------------------------- the site
def test_mkdocs_build_strict(tmp_path):
    for module, package in (("mkdocs", "mkdocs"), ("material", "mkdocs-material"),
                            ("mkdocstrings_handlers.python", "mkdocstrings[python]")):
        if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
            pytest.skip(f"{package} is not installed (it is in the [test] extra): pip install -e '.[test]'")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(tmp_path / "site")], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    site = tmp_path / "site"
    cli = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "activation-rm fit" in cli and "--criterion" in cli, "the CLI reference was not generated"
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "ActivationRM" in api and "load_backbone" in api, "the API reference was not generated"
    assert (site / "results" / "fast" / "results.png").is_file(), "figures under results/ are not in the site"


def test_generated_result_tables_are_up_to_date(capsys):
    gen = _load("gen_results", ROOT / "docs" / "gen_results.py")
    status = gen.main(["--check"])
    assert status == 0, capsys.readouterr().err


def test_generator_rewrites_a_stale_block(tmp_path):
    gen = _load("gen_results", ROOT / "docs" / "gen_results.py")
    page = tmp_path / "page.md"
    stale = "before\n<!-- gen:headline -->\nold table\n<!-- /gen:headline -->\nafter\n"
    new, changed = gen.regenerate(stale, page)
    assert changed == ["headline"]
    assert new.startswith("before\n<!-- gen:headline -->\n") and new.endswith("<!-- /gen:headline -->\nafter\n")
    assert "| pair set (test half) |" in new and "old table" not in new
    assert gen.regenerate(new, page) == (new, [])


# ----------------------------------------------------------------------------------------------- the README
def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def readme_commands() -> list[str]:
    """Each shell command of the README's bash blocks, continuation lines joined, comments dropped."""
    commands: list[str] = []
    for block in _blocks(README.read_text(encoding="utf-8"), "bash"):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def _words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def _segments(command: str) -> list[list[str]]:
    """The simple commands of a command line (split at &&, ||, ;, | and &)."""
    out, current = [], []
    for word in _words(command):
        if word in ("&&", "||", ";", "|", "&"):
            out.append(current)
            current = []
        else:
            current.append(word.rstrip(";&"))
    return [seg for seg in out + [current] if seg]


@pytest.fixture(scope="module")
def cli_help() -> dict[str, str]:
    hooks = _load("docs_hooks", ROOT / "docs" / "hooks.py")
    return hooks.cli_help()


def test_readme_is_short_and_keeps_the_ci_command():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; the limit is 300"
    heading = lines.index("# 2. install and run the tests")
    assert "pytest" in lines[heading + 1], "the line after '# 2. install and run the tests' must be the test command"
    assert lines[heading - 3].startswith("# 1. install and run the main job"), "the two install commands come first"


def test_readme_has_no_run_history():
    text = README.read_text(encoding="utf-8")
    assert not re.search(r"\bissues?\s+#?\d+|(?<![\w#])#\d+\b", text, flags=re.I), \
        "issue numbers belong in docs or commits"
    assert not re.search(r"\b\d{1,2}:\d{2}(:\d{2})? ?UTC\b|\b20\d\d-\d\d-\d\d\b", text), "dates belong in docs/"
    hashes = [w for w in re.findall(r"\b[0-9a-f]{7,40}\b", text) if re.search(r"\d", w) and re.search(r"[a-f]", w)]
    assert not hashes, f"commit hashes in README.md: {hashes}"


def test_readme_links_exist():
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


def test_readme_commands_use_real_verbs_options_and_files(cli_help):
    verbs = {verb for verb in cli_help if verb}
    checked = 0
    for command in readme_commands():
        for seg in _segments(command):
            if seg[0] == "activation-rm":
                verb = seg[1] if len(seg) > 1 and not seg[1].startswith("-") else ""
                assert verb == "" or verb in verbs, f"README: unknown verb in {command!r}"
                for word in seg[1:]:
                    if word.startswith("--"):
                        option = word.split("=", 1)[0]
                        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", cli_help[verb]), \
                            f"README: {option} is not an option of 'activation-rm {verb}' in {command!r}"
                checked += 1
            elif seg[0] in ("python", "python3") and len(seg) > 1 and seg[1].endswith(".py"):
                assert (ROOT / seg[1]).is_file(), f"README: {seg[1]} does not exist ({command!r})"
            for word in seg:
                if word.startswith(("benchmarks/", "results/", "docs/", "tests/", "src/")):
                    path = word.split(":")[0]
                    if not path.startswith("$"):
                        assert (ROOT / path).exists(), f"README: {path} does not exist ({command!r})"
    assert checked >= 8, "fewer activation-rm commands found in README.md than expected: is the extraction broken?"


def _cheap(command: str) -> bool:
    """Commands that need no model load, network or long run."""
    words = _words(command)
    if words[:1] != ["activation-rm"] and words[:2] != ["python", "benchmarks/backbones.py"]:
        return False
    if any(w in ("&&", "|", ";", "&") or w.startswith("$(") for w in words):
        return False
    return ("--help" in words or "--version" in words or words[:2] == ["activation-rm", "inspect"]
            and "--png" not in words and (ROOT / words[2]).is_dir() or words[1:] == ["benchmarks/backbones.py", "list"])


def test_readme_cheap_commands_run_as_written():
    cheap = [c for c in readme_commands() if _cheap(c)]
    assert any(c.startswith("activation-rm inspect results/") for c in cheap), cheap
    assert any("--help" in c for c in cheap), cheap
    for command in cheap:
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=_env(), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, f"README command failed: {command}\n{done.stdout}\n{done.stderr}"
        assert done.stdout.strip(), f"README command printed nothing: {command}"


def test_readme_python_compiles_and_imports_exist():
    blocks = _blocks(README.read_text(encoding="utf-8"), "python")
    assert blocks, "no Python block in README.md"
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "activation_rm":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"README imports {alias.name} from {node.module}: not there"
