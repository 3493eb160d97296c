"""activation_rm.version: the one version string, read from the installed distribution's metadata."""

from __future__ import annotations

import importlib
import re
from importlib.metadata import PackageNotFoundError, version

import activation_rm
import activation_rm.version as version_module


def test_version_comes_from_the_package_metadata():
    assert activation_rm.__version__ == version_module.__version__ == version("activation-rm")
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?([.+-].+)?", version_module.__version__)


def test_a_source_tree_without_an_install_reads_unknown(monkeypatch):
    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr("importlib.metadata.version", not_installed)
    try:
        assert importlib.reload(version_module).__version__ == "0+unknown"
    finally:
        monkeypatch.undo()
        importlib.reload(version_module)
    assert version_module.__version__ == version("activation-rm")
