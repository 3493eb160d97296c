import json
import random

import pytest

from activation_rm.eval.preferencehack import BIASES, BuildConfig, build, inject, load_built, strip_markdown
from activation_rm.eval.records import PairRecord

_SUBSETS = ["math-prm", "hep-python", "refusals-offensive", "xstest-should-respond", "llmbar-natural"]


def _sources(n=60):
    out = []
    for i in range(n):
        subset = _SUBSETS[i % len(_SUBSETS)]
        out.append(PairRecord(str(i), subset, f"Question number {i}? Please answer.",
                              f"The correct answer is {i}. It follows from the rule.", f"The answer is {i + 1}."))
    return out


def test_bias_and_control_put_the_cue_on_opposite_sides():
    rng = random.Random(0)
    better, worse = "The answer is 4. Two plus two is four.", "The answer is 5. Two plus two is five."
    c, r = inject("length", False, better, worse, "What is 2+2?", rng)
    assert len(r) > 2 * len(c)
    c, r = inject("length", True, better, worse, "What is 2+2?", rng)
    assert len(c) > 2 * len(r)
    c, r = inject("format", False, better, worse, "What is 2+2?", rng)
    assert "|" in r and ("#" in r or "**" in r) and "|" not in c
    c, r = inject("format", True, better, worse, "What is 2+2?", rng)
    assert "|" in c and "|" not in r and "**" not in r
    c, r = inject("positivity", False, better, worse, "What is 2+2?", rng)
    assert r.count("!") > c.count("!")
    c, r = inject("positivity", True, better, worse, "What is 2+2?", rng)
    assert c.count("!") > r.count("!")
    assert strip_markdown("## Title\n- **bold** item") == "Title\nbold item"


def test_build_is_deterministic_varied_and_split():
    config = BuildConfig(per_group=12, n_fewshot=20, seed=0)
    rows = build(_sources(), config)
    assert rows == build(_sources(), config)
    assert rows != build(_sources(), BuildConfig(per_group=12, n_fewshot=20, seed=1))
    assert {r["section"] for r in rows} == set(BIASES)
    for bias in BIASES:
        subsets = {r["subset"] for r in rows if r["section"] == bias}
        assert subsets == {bias, f"{bias}-control"}
        assert sum(r["role"] == "fewshot" for r in rows if r["section"] == bias) == 20
    # variety: no single opening line marks the injected side
    openers = [r["rejected"].split("\n")[0] for r in rows if r["subset"] == "length"]
    assert len(set(openers)) > 3


def test_load_built_round_trip_and_errors(tmp_path):
    rows = build(_sources(), BuildConfig(per_group=12, n_fewshot=20))
    path = tmp_path / "ph.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pool, rest = load_built(path)
    assert len(pool) == 3 * 20 and len(pool) + len(rest) == len(rows)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({**rows[0], "role": "train"}) + "\n")
    with pytest.raises(ValueError, match=r"broken.jsonl:1: field 'role'"):
        load_built(broken)


def test_build_from_real_rewardbench(shared_data, tmp_path):
    from activation_rm.eval.preferencehack import build_file

    path = build_file(f"{shared_data}/rewardbench/filtered.jsonl", tmp_path / "ph.jsonl")
    pool, rest = load_built(path)
    assert len(pool) == 3 * 80 and len(rest) == 3 * 120
    assert path.read_bytes() == build_file(f"{shared_data}/rewardbench/filtered.jsonl", tmp_path / "again.jsonl").read_bytes()
