"""MkDocs hooks (``hooks:`` in mkdocs.yml).

* The CLI reference: ``<!-- cli-reference -->`` in a page becomes the ``--help`` of ``activation-rm`` and of each of
  its verbs, taken from the installed console script at build time, so the reference cannot go stale.
* Docstrings: Sphinx roles (``:class:`X```) in the rendered API reference become plain code.
* Figures: the pages link the PNGs under ``results/`` as ``../results/...`` (which works when the Markdown is read
  in the repository); the hook adds those files to the site and rewrites the links to match.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_MARKER = "<!-- cli-reference -->"

#: runs in a child process: every verb's --help through the console-script entry point, whatever module holds it
_HELP_SCRIPT = r"""
import contextlib, io, json, re, sys
from importlib.metadata import entry_points

(ep,) = entry_points(group="console_scripts", name="activation-rm")
main = ep.load()
sys.argv[0] = "activation-rm"

def run(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
    return out.getvalue()

top = run(["--help"])
verbs = re.search(r"\{([a-z0-9,-]+)\}", top).group(1).split(",")
print(json.dumps({"": top, **{verb: run([verb, "--help"]) for verb in verbs}}))
"""

_cli_help: dict[str, str] | None = None


def cli_help() -> dict[str, str]:
    """{"": top-level help, verb: help} from the installed ``activation-rm``."""
    global _cli_help
    if _cli_help is None:
        env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
        done = subprocess.run([sys.executable, "-c", _HELP_SCRIPT], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"could not collect the CLI help:\n{done.stderr}")
        _cli_help = json.loads(done.stdout)
    return _cli_help


def cli_reference() -> str:
    helps = cli_help()
    parts = ["## `activation-rm`", "", "```text", helps[""].rstrip(), "```", ""]
    for verb, text in helps.items():
        if verb:
            parts += [f"## `activation-rm {verb}`", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(parts)


def figures() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "results").rglob("*.png"))


def on_files(files, config):
    from mkdocs.structure.files import File

    for rel in figures():
        if files.get_file_from_path(rel) is None:
            files.append(File(rel, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    # a page at the top of docs/ links ../results/X.png in the repository; in the site the file is results/X.png
    depth = page.file.src_uri.count("/")
    return markdown.replace("](" + "../" * (depth + 1) + "results/", "](" + "../" * depth + "results/")


_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj|const|py:\w+):(?=<code)")


def on_page_content(html: str, page, config, files) -> str:
    return _ROLE.sub("", html)
