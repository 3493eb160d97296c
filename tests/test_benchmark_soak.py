"""The soak benchmark (benchmarks/soak.py): every request kind of its mix gets the status it expects from the
app, and a short end-to-end run against a real server reports throughput, latency, statuses and memory with
zero 5xx."""

from __future__ import annotations

import json

import pytest
from tiny import load_benchmark, needs_server_extra

needs_server_extra()


@pytest.fixture(scope="module")
def soak():
    return load_benchmark("soak")


def test_every_kind_of_the_mix_gets_its_expected_status(soak):
    """In-process, so the end-to-end run below does not have to draw every kind to cover it."""
    import random

    from serve_support import local_client, served

    from activation_rm.scoring.engine import ModelSet
    from activation_rm.serve.app import create_app
    from activation_rm.serve.config import ServerConfig

    setup = served()
    app = create_app(ModelSet.from_artifacts(setup.specs, backbone=setup.backbone), ServerConfig(**soak.LIMITS))
    client = local_client(app, raise_server_exceptions=False)
    rng, pairs = random.Random(0), soak.samples()
    calls = [soak.invalid_call(kind) for kind in soak.INVALID_KINDS]
    calls += [soak.valid_call(kind, rng, pairs) for kind in sorted(set(soak.VALID_KINDS))]
    for call in calls:
        reply = client.post(call.path, content=call.content, headers=call.headers)
        assert reply.status_code == call.expected, (call.kind, reply.text)
        if call.expected == 200:
            assert soak.result_items(call.path, reply.json()) == {call.items}, call.kind
        else:
            assert reply.json()["error"], call.kind


def test_plan_mixes_valid_invalid_and_abandoned_requests_reproducibly(soak):
    calls = soak.plan(400, invalid_share=0.3, abandon_share=0.05, seed=3)
    assert [c.kind for c in calls] == [c.kind for c in soak.plan(400, 0.3, 0.05, seed=3)]
    invalid = sum(c.expected not in (0, 200) for c in calls)
    abandoned = sum(c.expected == 0 for c in calls)
    assert 80 <= invalid <= 160 and 5 <= abandoned <= 40
    assert {c.kind for c in calls} >= set(soak.INVALID_KINDS) | set(soak.VALID_KINDS) | {"abandoned"}


def test_percentile_is_nearest_rank(soak):
    values = [i / 1000 for i in range(1, 101)]  # 1 ... 100 ms
    assert (soak.percentile(values, 0.5), soak.percentile(values, 0.99), soak.percentile(values, 1.0)) == (50, 99, 100)
    assert soak.percentile([], 0.5) is None


def test_short_soak_against_a_real_server(soak, tmp_path):
    out = tmp_path / "soak.json"
    code = soak.main(["--clients", "2", "--requests", "40", "--warmup", "10", "--invalid-share", "0.5",
                      "--server-threads", "1", "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 0 and report["passed"], report["failures"]
    assert report["server_5xx"] == 0 and report["unexpected"] == [] and report["wrong_shape"] == 0
    assert sum(report["status_counts"].values()) == 40
    assert report["status_counts"]["200"] >= 1 and any(s.startswith("4") for s in report["status_counts"])
    assert report["throughput_rps"] > 0
    for name in ("all", "valid", "invalid"):
        assert report["latency"][name]["p50_ms"] <= report["latency"][name]["p99_ms"]
    assert set(report["rss_mib"]) == {"start", "warm", "middle", "end", "growth_after_warmup", "growth_second_half"}
    assert report["rss_mib"]["start"] > 50  # a Python process with torch loaded
    assert report["server_log"]["tracebacks"] == 0
