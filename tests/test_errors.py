"""activation_rm.model.errors: the backbone errors, importable without torch, and what they are caught as."""

from __future__ import annotations

import subprocess
import sys

import pytest

import activation_rm
from activation_rm.model.errors import BackboneMismatchError, PickleWeightsError, UnsupportedModelError


def test_error_hierarchy():
    assert issubclass(UnsupportedModelError, ValueError) and issubclass(BackboneMismatchError, ValueError)
    assert issubclass(PickleWeightsError, UnsupportedModelError)  # refused like an unsupported model
    assert not issubclass(BackboneMismatchError, UnsupportedModelError)
    assert activation_rm.UnsupportedModelError is UnsupportedModelError
    assert activation_rm.BackboneMismatchError is BackboneMismatchError
    with pytest.raises(UnsupportedModelError, match="pickle"):
        raise PickleWeightsError("pytorch_model.bin only: loading pickle files can run code")


def test_the_errors_load_without_torch():
    code = ("import sys; import activation_rm.model.errors; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
