"""The package version, read from the installed distribution's metadata (one source: ``pyproject.toml``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("activation-rm")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"
