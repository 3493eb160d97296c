"""Scale-out on a local Ray cluster (2 CPUs): Ray Data batch scoring through the CLI, and Ray Serve with 2 replicas.

Both load the artifacts by path in other processes, so they use the tiny model saved to disk by the support module.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pytest.importorskip("ray.serve", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pytest.importorskip("ray.data", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")

import torch  # noqa: E402
from serve_support import PROMPTS, RESPONSES, free_port, served  # noqa: E402

from activation_rm.apps.cli import main  # noqa: E402
from activation_rm.integrations.client import RewardClient, RewardServerError  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def cluster():
    setup = served()  # fit before Ray starts, so the fit does not compete with Ray's processes
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield setup
    try:
        from ray import serve

        serve.shutdown()
    finally:
        ray.shutdown()


def test_score_with_ray_data(cluster, tmp_path):
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


def test_score_with_ray_data_parquet_and_chat_prompts(cluster, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from activation_rm.integrations.ray_batch import score_with_ray

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


def test_ray_serve_two_replicas(cluster):
    from ray import serve

    from activation_rm.serve.ray_app import serve_on_ray

    port = free_port()
    serve_on_ray(cluster.specs, ServerConfig(token="t"), {"device": "cpu", "dtype": "float32"}, host="127.0.0.1",
                 port=port, replicas=2, num_cpus=0.5, blocking=False)
    client = RewardClient(f"http://127.0.0.1:{port}", token="t", timeout=60)
    deadline = time.monotonic() + 60
    while True:
        try:
            info = client.info()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert [c["name"] for c in info["criteria"]] == ["short", "honest"]
    status = serve.status().applications["activation-rm"].deployments["ActivationRM"]
    assert sum(status.replica_states.values()) == 2
    for _ in range(4):  # several requests, spread over both replicas by the proxy
        scores = client.score(PROMPTS, RESPONSES)
        for name, rm in cluster.rms.items():
            torch.testing.assert_close(scores[name], rm.score(PROMPTS, RESPONSES))
    with pytest.raises(RewardServerError) as bad:
        client.score(["q", ""], ["a", "b"])
    assert bad.value.status == 422 and bad.value.item == 1
    with pytest.raises(RewardServerError) as unauthorized:
        RewardClient(f"http://127.0.0.1:{port}").score(["q"], ["a"])
    assert unauthorized.value.status == 401
    serve.delete("activation-rm")
