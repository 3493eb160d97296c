"""Command-line flags generated from configuration dataclasses, so a field's help text and default live in one
place (its ``field(metadata={"help": ...})``), as TRL does. Torch-free: the CLI and ``eval`` build their parsers
with it.

A field is a flag when its metadata has ``"help"``; ``"choices"`` restricts its values and ``"default_text"``
replaces the shown default (e.g. for None). Flags default to None, so :func:`flag_values` returns only the options
the user gave and the dataclass keeps its own defaults for the rest::

    add_flags(parser, SelectionConfig)
    SelectionConfig(**flag_values(parser.parse_args(argv), SelectionConfig))
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, fields
from typing import Any

_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}
_METAVARS: dict[type, str] = {int: "N", float: "NUM", str: "TEXT"}


def flag_fields(cls: type, exclude: Iterable[str] = (), only: Iterable[str] | None = None) -> list[Field]:
    """The fields of dataclass ``cls`` that are command-line flags (metadata with ``"help"``), in declaration
    order: those named in ``only`` (default: all), less ``exclude``."""
    skip, keep = set(exclude), None if only is None else set(only)
    chosen = [f for f in fields(cls) if "help" in f.metadata and f.name not in skip
              and (keep is None or f.name in keep)]
    missing = (keep or set()) - {f.name for f in chosen} - skip
    if missing:
        raise ValueError(f"{cls.__name__} has no flag field(s) {sorted(missing)}")
    return chosen


def option_name(name: str) -> str:
    """``max_length`` -> ``--max-length``."""
    return "--" + name.replace("_", "-")


def field_type(f: Field) -> type:
    """The scalar type of a field's annotation (``int``, ``int | None`` and ``"int"`` all give int)."""
    annotation = f.type
    if isinstance(annotation, type):
        return annotation
    names = [part.strip() for part in str(annotation).split("|") if part.strip() not in ("None", "")]
    if len(names) != 1 or names[0] not in _TYPES:
        raise TypeError(f"field {f.name!r}: no command-line type for the annotation {annotation!r}")
    return _TYPES[names[0]]


def field_default(f: Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def show_value(value: Any) -> str:
    """A default as the help shows it: on/off for booleans, none for None, else the value itself."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    return str(value)


def shown_default(f: Field, presets: Mapping[str, Any] | None = None) -> str | None:
    """The text after ``default:`` in a field's help: ``"default_text"`` from its metadata, else its value; with
    ``presets`` (label -> instance) whose values differ, each preset's (``fast 30, full 600``)."""
    if "default_text" in f.metadata:
        return f.metadata["default_text"]
    if presets:
        values = {label: getattr(instance, f.name) for label, instance in presets.items()}
        if len({repr(v) for v in values.values()}) > 1:
            return ", ".join(f"{label} {show_value(v)}" for label, v in values.items())
        return show_value(next(iter(values.values())))
    default = field_default(f)
    return None if default is MISSING else show_value(default)


def add_flags(parser: Any, cls: type, exclude: Iterable[str] = (), only: Iterable[str] | None = None,
              presets: Mapping[str, Any] | None = None) -> list[str]:
    """Add ``--field-name`` for every flag field of ``cls`` (see the module notes); returns the dests added.

    ``parser`` is an ``argparse.ArgumentParser`` or an argument group of one. Types come from the annotation, choices from ``metadata["choices"]``; a boolean that defaults to off is a
    switch (``--balance-classes``), one that defaults to on takes ``--x/--no-x``. Every flag defaults to None
    (not given) and its help ends with the real default, ``(default: X)``."""
    added = []
    for f in flag_fields(cls, exclude, only):
        kind = field_type(f)
        text = f.metadata["help"].replace("%", "%%")
        default = shown_default(f, presets)
        if default is not None:
            text += f" (default: {default.replace('%', '%%')})"
        options: dict[str, Any] = {"default": None, "help": text, "dest": f.name}
        if kind is bool:
            on = presets is None and field_default(f) is True
            options["action"] = argparse.BooleanOptionalAction if on or presets else "store_true"
        else:
            options["type"] = kind
            if "choices" in f.metadata:
                options["choices"] = tuple(f.metadata["choices"])
            else:
                options["metavar"] = f.metadata.get("metavar", _METAVARS[kind])
        parser.add_argument(option_name(f.name), **options)
        added.append(f.name)
    return added


def flag_values(args: argparse.Namespace | Mapping[str, Any], cls: type, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The flag fields of ``cls`` the user gave (not None) in parsed ``args``: keyword arguments for ``cls`` or a
    ``dataclasses.replace`` of it. Fields the parser has no flag for are left out."""
    values = args if isinstance(args, Mapping) else vars(args)
    return {f.name: values[f.name] for f in flag_fields(cls, exclude) if values.get(f.name) is not None}
