"""activation_rm.eval.settings: the method names and the judges' settings, importable without torch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from activation_rm.eval.settings import ABLATIONS, ARM_METHODS, BASELINES, EvalSettings


def test_method_names_are_disjoint_and_named_by_family():
    names = [*BASELINES, *ARM_METHODS, *ABLATIONS]
    assert len(names) == len(set(names)) == 11
    assert all(name.startswith("arm_") for name in ARM_METHODS + ABLATIONS)
    assert not any(name.startswith("arm_") for name in BASELINES)


def test_settings_round_trip_through_to_dict():
    settings = EvalSettings(steps=7, votes=3, ablations=True)
    data = settings.to_dict()
    assert data == {f.name: getattr(settings, f.name) for f in dataclasses.fields(EvalSettings)}
    assert (data["steps"], data["votes"], data["ablations"]) == (7, 3, True)
    assert EvalSettings(**data) == settings
    defaults = EvalSettings().to_dict()
    assert (defaults["max_length"], defaults["steps"], defaults["masks_per_step"]) == (2048, 600, 32)


def test_the_settings_load_without_torch():
    code = "import sys; import activation_rm.eval.settings; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
