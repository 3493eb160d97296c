"""The eval command on multimodal benchmarks: loaders wired in, few-shot fits keep their images."""

import json

from test_vision_benchmarks import _mmrb
from tiny_vision import tiny_vision_backbone

from activation_rm.apps.cli import build_parser
from activation_rm.eval.command import MM_CRITERION, _specs
from activation_rm.eval.methods import pair_examples
from activation_rm.eval.runner import RunConfig, read_rows, run_eval
from activation_rm.eval.settings import EvalSettings


def _two_sections(tmp_path):
    """Six image pairs in two sections, so a pool of one pair per section leaves four to evaluate."""
    path, rows = _mmrb(tmp_path)
    for i, row in enumerate(rows):
        row["Category"] = "vqa" if i % 2 else "reasoning"
    with open(path, "w") as handle:
        json.dump(rows, handle)
    return path, rows


def test_eval_specs_for_multimodal_rewardbench_carry_images(tmp_path):
    path, rows = _two_sections(tmp_path)
    args = build_parser().parse_args(["eval", "--out", str(tmp_path / "out"), "--mm-rewardbench", path, "--pool", "1"])
    (spec,) = _specs(args, {})
    assert spec.name == "Multimodal RewardBench" and spec.criterion == MM_CRITERION
    assert (len(spec.pool), len(spec.records)) == (2, 4)
    assert all(r.images and r.images[0].endswith(".jpg") for r in spec.pool + spec.records)
    examples = pair_examples(spec.pool)
    assert [e.images for e in examples] == [r.images for r in spec.pool]


def test_eval_runs_an_activation_rm_on_image_pairs(tmp_path):
    path, _ = _two_sections(tmp_path)
    args = build_parser().parse_args(["eval", "--out", str(tmp_path / "out"), "--mm-rewardbench", path, "--pool", "1"])
    (spec,) = _specs(args, {})
    settings = EvalSettings(max_length=512, steps=2, masks_per_step=4, n_contexts=2, n_shots=1)
    config = RunConfig(methods=["arm_pairwise"], seeds=[0], n_fewshot=len(spec.pool), chunk=2, settings=settings)
    items = run_eval(tiny_vision_backbone("qwen2_vl"), [spec], config, tmp_path / "out", log=lambda m: None)
    rows = read_rows(items)
    assert len(rows) == len(spec.records) and {r["method"] for r in rows} == {"arm_pairwise"}
    assert all(r["correct"] in (0, 0.5, 1) for r in rows)
