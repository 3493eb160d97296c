"""activation_rm.eval.multimodal: the Multimodal RewardBench and VL-RewardBench loaders on small files written here
(with generated images), their records fitting and scoring an Activation RM, and the eval command on them."""

import io
import json

import pytest
from tiny_vision import make_image, tiny_vision_backbone

from activation_rm.apps.cli import build_parser
from activation_rm.eval.command import MM_CRITERION, _specs
from activation_rm.eval.methods import pair_examples
from activation_rm.eval.multimodal import (
    MultimodalBenchmarkError,
    load_multimodal_rewardbench,
    load_vl_rewardbench,
    records_to_examples,
)
from activation_rm.eval.records import PairRecord
from activation_rm.eval.runner import RunConfig, read_rows, run_eval
from activation_rm.eval.settings import EvalSettings
from activation_rm.scoring.reward_model import ActivationRM, pair_correct, preference


def _mmrb(tmp_path, n: int = 6) -> tuple[str, list[dict]]:
    """A released-format ``all_data.json`` with images under ``images/<source>/`` (as the download script makes)."""
    categories = ["open_generation/correctness_task", "vqa", "safety", "reasoning", "knowledge",
                  "open_generation/preference_task"]
    ids = ["nocaps_1", "mmbench_2", "pairs_3", "mathvista_4", "mmmu_5", "visitbench_6"]
    rows = []
    for i in range(n):
        folder = tmp_path / "data" / "images" / ids[i].split("_")[0]
        folder.mkdir(parents=True, exist_ok=True)
        make_image(32 + 4 * i, 40, seed=i).save(folder / f"{i}.jpg")
        rows.append({"ID": ids[i], "Text": f"Question {i} about the image?", "Image": f"images/{ids[i].split('_')[0]}/{i}.jpg",
                     "Output1": f"Answer one of {i}.", "Output2": f"Answer two of {i}.",
                     "Better": "Output1" if i % 2 == 0 else "Output2", "Category": categories[i]})
    path = tmp_path / "data" / "all_data.json"
    path.write_text(json.dumps(rows))
    return str(path), rows


def test_multimodal_rewardbench_released_format(tmp_path):
    path, rows = _mmrb(tmp_path)
    records = load_multimodal_rewardbench(path)
    assert len(records) == len(rows) and all(isinstance(r, PairRecord) for r in records)
    assert (records[0].chosen, records[0].rejected) == ("Answer one of 0.", "Answer two of 0.")
    assert (records[1].chosen, records[1].rejected) == ("Answer two of 1.", "Answer one of 1.")  # Better: Output2
    assert [r.subset for r in records[:4]] == ["open_generation/correctness_task", "vqa", "safety/bias",
                                              "reasoning/math"]
    assert [r.section for r in records] == ["General Correctness", "VQA", "Safety", "Reasoning", "Knowledge",
                                            "General Preference"]
    assert records[0].images == (str(tmp_path / "data" / "images" / "nocaps" / "0.jpg"),)
    assert [r.id for r in load_multimodal_rewardbench(path, categories=["vqa"])] == ["mmbench_2"]
    # images under another root
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (tmp_path / "data" / "images").rename(moved / "images")
    with pytest.raises(MultimodalBenchmarkError, match=r"all_data\.json\[0\]: image file not found: .*nocaps"):
        load_multimodal_rewardbench(path)
    assert load_multimodal_rewardbench(path, image_root=moved)[2].images == (str(moved / "images/pairs/2.jpg"),)


def test_multimodal_rewardbench_bad_rows_name_the_row_and_field(tmp_path):
    path, rows = _mmrb(tmp_path, 2)
    rows[1]["Better"] = "Output3"
    open(path, "w").write(json.dumps(rows))
    with pytest.raises(MultimodalBenchmarkError, match=r"all_data\.json\[1\]: field 'Better'"):
        load_multimodal_rewardbench(path)
    del rows[1]["Better"], rows[0]["Output2"]
    open(path, "w").write(json.dumps(rows))
    with pytest.raises(MultimodalBenchmarkError, match=r"all_data\.json\[0\]: field 'Output2'"):
        load_multimodal_rewardbench(path)


def _vlrb_rows(tmp_path) -> list[dict]:
    (tmp_path / "imgs").mkdir()
    sources = ["povid", "wildvision-battle", "mathverse"]
    rows = []
    for i, source in enumerate(sources):
        make_image(40, 30 + 6 * i, seed=10 + i).save(tmp_path / "imgs" / f"{i}.png")
        rows.append({"id": f"vl_{i}", "query": f"What is shown in picture {i}?",
                     "response": [f"First answer {i}.", f"Second answer {i}."],
                     "human_ranking": [0, 1] if i != 1 else [1, 0], "query_source": source,
                     "image": f"imgs/{i}.png"})
    return rows


def test_vl_rewardbench_jsonl_export(tmp_path):
    rows = _vlrb_rows(tmp_path)
    path = tmp_path / "vlrb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = load_vl_rewardbench(path)
    assert [(r.chosen, r.rejected) for r in records] == [("First answer 0.", "Second answer 0."),
                                                         ("Second answer 1.", "First answer 1."),
                                                         ("First answer 2.", "Second answer 2.")]
    assert [r.section for r in records] == ["Hallucination", "General", "Reasoning"]
    assert [r.subset for r in records] == ["povid", "wildvision-battle", "mathverse"]
    assert records[1].images == (str(tmp_path / "imgs" / "1.png"),)
    rows[2]["human_ranking"] = [1, 1]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(MultimodalBenchmarkError, match=r"vlrb\.jsonl:3: field 'human_ranking' is a tie"):
        load_vl_rewardbench(path)
    rows[2]["human_ranking"], rows[0]["image"] = [0, 1], "imgs/absent.png"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(MultimodalBenchmarkError, match=r"vlrb\.jsonl:1: image file not found: .*absent\.png"):
        load_vl_rewardbench(path)


def test_vl_rewardbench_parquet_with_embedded_images(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = _vlrb_rows(tmp_path)
    for i, row in enumerate(rows):
        buffer = io.BytesIO()
        make_image(24, 24 + i, seed=20 + i).save(buffer, format="PNG")
        row["image"] = {"bytes": buffer.getvalue(), "path": None}
    rows[2]["image"] = {"bytes": b"not an image", "path": None}
    pq.write_table(pa.Table.from_pylist(rows[:2]), tmp_path / "test.parquet")
    records = load_vl_rewardbench(tmp_path / "test.parquet")
    assert [r.images[0].size for r in records] == [(24, 24), (25, 24)]  # PIL images decoded from the bytes
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "bad.parquet")
    with pytest.raises(MultimodalBenchmarkError, match=r"bad\.parquet\[2\]: field 'image' holds bytes"):
        load_vl_rewardbench(tmp_path / "bad.parquet")


def test_loaded_records_fit_and_score_an_activation_rm(tmp_path):
    """The loaders' records feed the library end to end: few-shot fit on some pairs, compare the others."""
    path, _ = _mmrb(tmp_path)
    records = load_multimodal_rewardbench(path)
    backbone = tiny_vision_backbone("llava_onevision")
    rm = ActivationRM.fit(backbone, records_to_examples(records[:4]), criterion="The answer is correct.",
                          mode="pairwise", steps=2, n_contexts=3, n_shots=1, masks_per_step=4, final_samples=2,
                          max_length=512, progress=False)
    held = records[4:]
    result = rm.compare([r.prompt for r in held], [r.chosen for r in held], [r.rejected for r in held],
                        images=[r.images for r in held])
    assert [c.preferred for c in result] == [preference(c.score_a, c.score_b) for c in result]
    for record, comparison in zip(held, result):  # both presentation orders, images included, by hand
        forward = rm.compare([record.prompt], [record.chosen], [record.rejected], both_orders=False,
                             images=[record.images])[0]
        backward = rm.compare([record.prompt], [record.rejected], [record.chosen], both_orders=False,
                              images=[record.images])[0]
        assert comparison.score_a == pytest.approx((forward.score_a + backward.score_b) / 2, abs=1e-6)
        assert comparison.score_a + comparison.score_b == pytest.approx(1.0)
    blind = rm.compare([r.prompt for r in held], [r.chosen for r in held], [r.rejected for r in held])
    assert [c.score_a for c in blind] != pytest.approx([c.score_a for c in result], abs=1e-6)  # images matter


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
    backbone = tiny_vision_backbone("qwen2_vl")
    items = run_eval(backbone, [spec], config, tmp_path / "out", log=lambda m: None)
    rows = read_rows(items)
    assert len(rows) == len(spec.records) and {r["method"] for r in rows} == {"arm_pairwise"}
    # each row is the saved artifact's own comparison of the pair, with its images
    rm = ActivationRM.load(tmp_path / "out" / "artifacts" / spec.name / "seed0" / "arm_pairwise", backbone=backbone)
    by_key = {r["key"]: r for r in rows}
    assert set(by_key) == {r.key for r in spec.records}
    for record in spec.records:
        (comparison,) = rm.compare([record.prompt], [record.chosen], [record.rejected], images=[record.images])
        row = by_key[record.key]
        assert (row["score_chosen"], row["score_rejected"]) == pytest.approx((comparison.score_a, comparison.score_b),
                                                                             abs=1e-6)
        assert row["correct"] == pair_correct(comparison.score_a, comparison.score_b)
