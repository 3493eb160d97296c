"""The fairness benchmark (benchmarks/fairness.py): its request bodies, and a short end-to-end run against a real
server in which 1-item requests finish well before the heavy requests that keep the server busy."""

from __future__ import annotations

import json

import pytest
from tiny import load_benchmark, needs_server_extra

needs_server_extra()


@pytest.fixture(scope="module")
def fairness():
    return load_benchmark("fairness")


def test_heavy_and_light_bodies(fairness):
    requests = fairness.Requests(heavy_items=5, heavy_chars=3000)
    heavy = requests.heavy(2)
    assert len(heavy["prompts"]) == len(heavy["responses"]) == 5
    assert {len(r) for r in heavy["responses"]} == {3000} and len(set(heavy["responses"])) == 5
    assert heavy == requests.heavy(2) and heavy != requests.heavy(3)
    light = requests.light(0)
    assert len(light["prompts"]) == len(light["responses"]) == 1


def test_short_run_against_a_real_server(fairness, tmp_path):
    out = tmp_path / "fairness.json"
    code = fairness.main(["--seconds", "6", "--heavy-items", "6", "--heavy-chars", "4000", "--abandon-rounds", "1", "--abandon-after", "0.3",
                          "--idle-requests", "3", "--server-threads", "1", "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 0 and report["server_tracebacks"] == 0
    assert not any(report[phase]["errors"] for phase in ("idle", "saturated", "abandoned"))
    saturated = report["saturated"]
    assert saturated["light"]["count"] >= 2 and saturated["heavy_finished"] >= 1
    # one heavy request is cut into 6 micro-batches; a 1-item request waits for about one of them, not for all
    assert saturated["light"]["max_ms"] < saturated["heavy"]["p50_ms"]
    assert report["abandoned"]["light"]["count"] == 1
