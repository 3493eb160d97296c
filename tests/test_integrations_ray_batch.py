"""activation_rm.integrations.ray_batch, Ray Data batch scoring: the actor's batch function in-process (rows with an
``images`` column on a tiny Qwen2-VL, bad rows), and JSONL and Parquet files through the CLI and
``score_with_ray`` on a local Ray cluster (2 CPUs), loading the artifacts by path in other processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pytest.importorskip("ray.data", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pd = pytest.importorskip("pandas", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")

import torch  # noqa: E402
from serve_support import PROMPTS, RESPONSES  # noqa: E402
from tiny import random_rm  # noqa: E402
from tiny_vision import make_image, tiny_vision_backbone  # noqa: E402

import activation_rm.scoring.engine as serve_models  # noqa: E402
from activation_rm.apps.cli import main  # noqa: E402
from activation_rm.integrations.ray_batch import BatchScorer, score_with_ray  # noqa: E402
from activation_rm.scoring.engine import ModelSet, combine  # noqa: E402
from activation_rm.scoring.streaming import InputError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
pytest_plugins = ["integrations_support"]  # the ray cluster fixture


def test_batch_scorer_passes_row_images_resolved_against_the_input_folder(tmp_path, monkeypatch):
    rm = random_rm(tiny_vision_backbone("qwen2_vl"), "The caption matches the image.", 0, density=0.4)
    monkeypatch.setattr(serve_models, "load_model_set", lambda artifacts, **kwargs: ModelSet.single(rm))
    (tmp_path / "img").mkdir()
    make_image(32, 40, seed=1).save(tmp_path / "img" / "a.png")
    make_image(48, 32, seed=2).save(tmp_path / "img" / "b.png")
    batch = pd.DataFrame({"prompt": ["Caption it.", "Caption it.", "Say hi."],
                          "response": ["A red square.", "A blue field.", "Hi."],
                          "images": [["img/a.png"], ["img/b.png", "img/a.png"], None]})
    scorer = BatchScorer(["unused"], {}, None, image_root=str(tmp_path))
    out = scorer(batch)
    direct = rm.score(list(batch["prompt"]), list(batch["response"]),
                      images=[[str(tmp_path / "img" / "a.png")],
                              [str(tmp_path / "img" / "b.png"), str(tmp_path / "img" / "a.png")], None])
    torch.testing.assert_close(torch.tensor(list(out["score"])), torch.tensor(direct), rtol=1e-5, atol=1e-6)
    without = rm.score(list(batch["prompt"]), list(batch["response"]))
    assert list(out["score"])[:2] != without[:2]  # the images reached the judge
    assert list(out["images"])[0] == ["img/a.png"]  # input columns are kept as they were


def test_batch_scorer_names_bad_rows_and_combines_several_criteria(setup, monkeypatch):
    models = ModelSet(dict(setup.rms))
    monkeypatch.setattr(serve_models, "load_model_set", lambda artifacts, **kwargs: models)
    scorer = BatchScorer(["unused"], {}, None)
    prompts = [p for p in PROMPTS if isinstance(p, str)]
    responses = RESPONSES[:len(prompts)]
    out = scorer(pd.DataFrame({"prompt": prompts, "response": responses}))
    want = models.score(prompts, responses)
    for name in want:
        torch.testing.assert_close(list(out[f"score_{name}"]), want[name])
    torch.testing.assert_close(list(out["score"]), combine(want))
    torch.testing.assert_close(combine(want), [(a + b) / 2 for a, b in zip(want["short"], want["honest"])])
    with pytest.raises(InputError, match="response must be a string, got int"):
        scorer(pd.DataFrame({"prompt": ["q"], "response": [3]}))
    with pytest.raises(InputError, match="a row has no prompt"):
        scorer(pd.DataFrame({"prompt": [None], "response": ["a"]}))
    with pytest.raises(InputError, match=r"^bad prompt ' ': prompt is empty$"):
        scorer(pd.DataFrame({"prompt": [" "], "response": ["a"]}))
    with pytest.raises(InputError, match=r": prompt message 1 must be a dict with 'role' and 'content', got str$"):
        scorer(pd.DataFrame({"prompt": [[{"role": "user", "content": "hi"}, "hi"]], "response": ["a"]}))


def test_score_with_ray_data(ray_cluster, tmp_path):
    cluster = ray_cluster
    rows = [{"id": i, "prompt": p, "response": r} for i, (p, r) in enumerate(zip(PROMPTS * 3, RESPONSES * 3))
            if isinstance(p, str)]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "scored"
    assert main(["score", cluster.paths["short"], str(source), "--output", str(out), "--ray", "--workers", "2",
                 "--worker-cpus", "0.5", "--chunk-size", "3", "--device", "cpu", "--dtype", "float32"]) == 0
    got = {}
    for shard in sorted(Path(out).iterdir()):
        for line in shard.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            got[record["id"]] = record
    assert sorted(got) == [row["id"] for row in rows]
    want = cluster.rms["short"].score([r["prompt"] for r in rows], [r["response"] for r in rows])
    torch.testing.assert_close([got[row["id"]]["score"] for row in rows], want)
    assert got[0]["response"] == rows[0]["response"]


def test_score_with_ray_data_parquet_and_chat_prompts(ray_cluster, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cluster = ray_cluster
    prompts = [[{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is two plus two?"}],
               [{"role": "user", "content": "The capital of France is?"}]] * 3
    responses = ["Four.", "Paris.", "5", "Lyon", "four", "It is Paris."]
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"prompt": prompts, "response": responses}), source)
    out = tmp_path / "scored.parquet"
    written = score_with_ray(str(source), str(out), cluster.specs, backbone_kwargs={"device": "cpu", "dtype": "float32"},
                             workers=1, batch_size=4, num_cpus=0.5)
    assert written == len(responses)
    table = pq.read_table(out).to_pandas()
    order = [responses.index(r) for r in table["response"]]
    for name, rm in cluster.rms.items():
        want = rm.score(prompts, responses)
        torch.testing.assert_close(list(table[f"score_{name}"]), [want[i] for i in order])
    torch.testing.assert_close(list(table["score"]), list((table["score_short"] + table["score_honest"]) / 2))

