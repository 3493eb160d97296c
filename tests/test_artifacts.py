"""Artifacts are data: arm.json is checked against its schema and its tensors, whole, before any backbone loads."""

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from activation_rm.apps.cli import main
from activation_rm.scoring import artifacts
from activation_rm.scoring.artifacts import (
    META_CHECKSUM,
    META_FILE,
    TENSORS_FILE,
    ArtifactError,
    read_artifact,
    write_artifact,
)
from activation_rm.scoring.reward_model import ActivationRM

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "results" / "alignment" / "arms").glob("*/arm.json"))


def rewritten(artifact: Path, out: Path, edit_meta=None, edit_tensors=None) -> Path:
    """A copy of ``artifact`` with arm.json and/or its tensors edited and both checksums recomputed: what a buggy
    or hostile writer produces, which the checksums alone cannot catch."""
    meta = json.loads((artifact / META_FILE).read_text())
    tensors = load_file(str(artifact / TENSORS_FILE))
    for key in ("format_version", "tensors_sha256", META_CHECKSUM):
        meta.pop(key, None)
    if edit_meta:
        edit_meta(meta)
    if edit_tensors:
        edit_tensors(tensors)
    return write_artifact(out, tensors, meta)


@pytest.fixture
def no_backbone_load(monkeypatch):
    """Loading any backbone fails the test: artifact problems must be found before the slow load."""
    def refuse(*args, **kwargs):
        raise AssertionError("a backbone was loaded before the artifact was checked")
    monkeypatch.setattr("activation_rm.scoring.reward_model.load_backbone", refuse)


def test_saved_artifact_checksums_its_own_metadata(artifact):
    meta = json.loads((artifact / META_FILE).read_text())
    assert meta["format_version"] == artifacts.FORMAT_VERSION == 2
    assert meta[META_CHECKSUM] == artifacts.meta_checksum(meta)
    assert read_artifact(artifact)[1] == meta


def test_an_edited_arm_json_is_refused_and_reindenting_is_not(artifact, tmp_path, no_backbone_load):
    path = Path(shutil.copytree(artifact, tmp_path / "arm"))
    meta = json.loads((path / META_FILE).read_text())
    (path / META_FILE).write_text(json.dumps(meta, indent=4, sort_keys=True))  # same content, other layout
    read_artifact(path)
    meta["criterion"] = "something else entirely"
    meta["template"]["criterion"] = "something else entirely"
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=f"{META_FILE}: the file was changed after it was written"):
        ActivationRM.load(path)
    del meta[META_CHECKSUM]
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=f"{META_CHECKSUM} is missing"):
        ActivationRM.load(path)


@pytest.mark.parametrize("meta_path", SHIPPED, ids=[p.parent.name for p in SHIPPED])
def test_shipped_format_1_artifacts_still_read(meta_path):
    """Compatibility: format 1 (no checksum of arm.json) still reads, and is checked like format 2."""
    tensors, meta = read_artifact(meta_path.parent)
    assert meta["format_version"] == 1 and META_CHECKSUM not in meta
    assert int(tensors["mask"].sum()) == meta["num_selected_heads"] == len(meta["selected_heads"])


def test_format_1_is_checked_by_the_schema(artifact, tmp_path):
    path = Path(shutil.copytree(artifact, tmp_path / "arm"))
    meta = json.loads((path / META_FILE).read_text())
    meta["format_version"] = 1
    del meta[META_CHECKSUM]
    (path / META_FILE).write_text(json.dumps(meta))
    read_artifact(path)
    meta["seed"] = "0"
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="seed: must be integer, got string"):
        read_artifact(path)


def test_wrong_types_are_one_error_naming_every_field(artifact, tmp_path, no_backbone_load):
    def edit(meta):
        meta["shape"]["heads"] = "4"
        meta["template"]["max_length"] = "2048"
        meta["seed"] = 1.5
        meta["backbone"]["name"] = 7
        meta["verdict_tokens"]["ids"] = [1]
        meta["fit"]["auto"] = {"chosen": "default", "folds": 2, "seconds": 1.0, "cv_accuracy": {"default": "high"}}
        del meta["mode"]
        meta["intervention"] = "add"

    path = rewritten(artifact, tmp_path / "arm", edit)
    with pytest.raises(ArtifactError) as caught:
        ActivationRM.load(path)
    message = str(caught.value)
    assert message.startswith(f"invalid artifact {path} (8 problems):")
    for expected in ("shape.heads: must be integer, got string '4'", "template.max_length: must be integer",
                     "seed: must be integer, got number 1.5", "backbone.name: must be string, got integer 7",
                     "verdict_tokens.ids: must be a list of two integers", "mode: missing",
                     "intervention: must be one of",
                     "fit.auto.cv_accuracy: values must be finite numbers; not for ['default']"):
        assert f"{path / META_FILE}: {expected}" in message


def test_inspect_reports_a_bad_artifact_without_a_traceback(artifact, tmp_path, capsys):
    def edit(meta):
        meta["backbone"] = "tiny"
        meta["fit"] = []

    path = rewritten(artifact, tmp_path / "arm", edit)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid artifact") and "Traceback" not in err
    assert "backbone: must be object, got string 'tiny'" in err and "fit: must be object, got array" in err


def test_shapes_that_contradict_the_tensors_are_refused(artifact, tmp_path, no_backbone_load):
    def edit(meta):
        meta["shape"]["heads"] += 1

    path = rewritten(artifact, tmp_path / "arm", edit)
    with pytest.raises(ArtifactError) as caught:
        ActivationRM.load(path)
    message = str(caught.value)
    assert f"{path / TENSORS_FILE}: means: shape (3, 4, 16) differs from arm.json's shape (3, 5, 16)" in message
    assert "mask: shape (3, 4) differs from arm.json's shape (3, 5)" in message

    def drop_a_layer(tensors):
        tensors["means"] = tensors["means"][:2]

    path = rewritten(artifact, tmp_path / "arm2", edit_tensors=drop_a_layer)
    with pytest.raises(ArtifactError, match="means: shape \\(2, 4, 16\\) differs from arm.json's shape \\(3, 4, 16\\)"):
        ActivationRM.load(path)


def test_head_lists_out_of_range_or_contradicting_the_mask_are_refused(artifact, tmp_path, no_backbone_load):
    def out_of_range(meta):
        meta["selected_heads"].append([7, 9, 0.5])
        meta["num_selected_heads"] += 1

    path = rewritten(artifact, tmp_path / "range", out_of_range)
    with pytest.raises(ArtifactError) as caught:
        ActivationRM.load(path)
    assert "layer 7 is out of range (shape.layers is 3)" in str(caught.value)
    assert "head 9 is out of range (shape.heads is 4)" in str(caught.value)

    mask = load_file(str(artifact / TENSORS_FILE))["mask"].bool()
    free = (~mask).nonzero()[0].tolist()

    def not_in_mask(meta):
        meta["selected_heads"].append([*free, 0.5])
        meta["num_selected_heads"] += 1

    path = rewritten(artifact, tmp_path / "mask", not_in_mask)
    with pytest.raises(ArtifactError, match=f"differ at \\(layer, head\\) \\[\\({free[0]}, {free[1]}\\)\\]"):
        ActivationRM.load(path)

    def miscounted(meta):
        meta["num_selected_heads"] += 1

    with pytest.raises(ArtifactError, match="num_selected_heads: .* but selected_heads lists"):
        ActivationRM.load(rewritten(artifact, tmp_path / "count", miscounted))


def test_contradicting_mode_criterion_and_verdicts_are_refused(artifact, tmp_path, no_backbone_load):
    def edit(meta):
        meta["mode"] = "pairwise"
        meta["criterion"] = "another criterion"
        meta["verdict_tokens"]["words"] = ["No", "Yes"]

    with pytest.raises(ArtifactError) as caught:
        ActivationRM.load(rewritten(artifact, tmp_path / "arm", edit))
    message = str(caught.value)
    assert "mode: 'pairwise' contradicts template.mode 'pointwise'" in message
    assert "criterion: differs from template.criterion" in message
    assert "verdict_tokens.words: ['No', 'Yes'] contradicts the template's pointwise verdicts ['Yes', 'No']" in message


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_means_or_probabilities_are_refused_at_load(artifact, tmp_path, no_backbone_load, value):
    def poison(tensors):
        tensors["means"][0, 0, 0] = value
        tensors["probs"][1, 1] = value

    with pytest.raises(ArtifactError) as caught:
        ActivationRM.load(rewritten(artifact, tmp_path / "arm", edit_tensors=poison))
    assert "means: 1 non-finite values (NaN or inf)" in str(caught.value)
    assert "probs: 1 non-finite values" in str(caught.value)


def test_mask_values_dtypes_and_missing_tensors_are_refused(artifact, tmp_path, no_backbone_load):
    def edit(tensors):
        tensors["mask"] = tensors["mask"] * 2
        tensors["means"] = tensors["means"].to(torch.int32)
        del tensors["probs"]

    with pytest.raises(ArtifactError) as caught:
        ActivationRM.load(rewritten(artifact, tmp_path / "arm", edit_tensors=edit))
    message = str(caught.value)
    assert "probs: missing" in message and "mask: must hold only 0 and 1" in message
    assert "means: must be floating point, got torch.int32" in message


def test_a_valid_rewrite_still_loads_and_scores_the_same(artifact, tmp_path):
    """The checks refuse only what is wrong: the same content written again loads and scores identically."""
    original = ActivationRM.load(artifact)
    again = ActivationRM.load(rewritten(artifact, tmp_path / "arm"), backbone=original.backbone)
    items = (["What is 2 plus 2?", "What is 3 plus 3?"], ["4.", "It is 7, because addition works that way."])
    assert again.score(*items) == original.score(*items)


def test_commands_refuse_a_bad_artifact_before_the_model_loads(artifact, model_dir, tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the artifact was checked")
    monkeypatch.setattr("activation_rm.model.backbone.load_backbone", refuse)

    def poison(tensors):
        tensors["means"][0, 0, 0] = math.nan

    path = rewritten(artifact, tmp_path / "arm", edit_tensors=poison)
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "What is 2 plus 2?", "response": "4."}\n')
    assert main(["score", str(path), str(source), "-o", str(tmp_path / "out.jsonl"), "--model", str(model_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{path / TENSORS_FILE}: means: 1 non-finite values (NaN or inf)" in err and "Traceback" not in err
