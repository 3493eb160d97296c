import json

import pytest

from activation_rm.eval.benchmarks import (
    REWARDBENCH_WEIGHTS,
    SUBSET_SECTION,
    BenchmarkError,
    FieldMap,
    cap_per_subset,
    draw_fewshot,
    load_evalbiasbench,
    load_pairs,
    load_preferencehack,
    load_rewardbench,
    split_pool,
)
from activation_rm.eval.records import PairRecord


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_user_pairs_and_errors_name_file_line_field(tmp_path):
    good = _write(tmp_path / "mine.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}] * 3)
    records = load_pairs(good)
    assert [r.key for r in records] == ["mine/1", "mine/2", "mine/3"]
    bad = _write(tmp_path / "bad.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}, {"prompt": "q", "good": "a"}])
    with pytest.raises(BenchmarkError, match=r"bad.jsonl:2: missing field 'chosen'"):
        load_pairs(bad)
    empty = _write(tmp_path / "empty.jsonl", [{"prompt": "q", "chosen": "", "rejected": "b"}])
    with pytest.raises(BenchmarkError, match=r"empty.jsonl:1: field 'chosen'"):
        load_pairs(empty)


def test_preferencehack_field_map_is_explicit(tmp_path):
    rows = [{"question": "q", "good": "a", "bad": "b", "bias": "length", "id": i} for i in range(2)]
    path = _write(tmp_path / "ph.jsonl", rows)
    with pytest.raises(BenchmarkError, match="missing field 'prompt'.*fields present"):
        load_preferencehack(path)
    mapped = load_preferencehack(path, FieldMap.parse("prompt=question,chosen=good,rejected=bad,subset=bias"))
    assert {r.subset for r in mapped} == {"length"}
    with pytest.raises(BenchmarkError, match="field map entry"):
        FieldMap.parse("answer=good")


def test_pool_split_cap_and_fewshot_draw():
    records = [PairRecord(str(i), f"s{i % 3}", "p", "c", "r", "A" if i < 12 else "B") for i in range(24)]
    pool, rest = split_pool(records, 5, by="section")
    assert len(pool) == 10 and len(rest) == 14
    assert all(r not in rest for r in pool)
    capped = cap_per_subset(rest, 2, seed=0)
    assert len(capped) == 6 and capped == cap_per_subset(rest, 2, seed=0)
    drawn = draw_fewshot(pool, 6, seed=1)
    assert len(drawn) == 6 and len({r.key for r in drawn}) == 6
    assert sum(r.section == "A" for r in drawn) == 3  # spread evenly over the groups
    assert draw_fewshot(pool, 6, seed=1) == drawn and draw_fewshot(pool, 6, seed=2) != drawn
    with pytest.raises(ValueError):
        draw_fewshot(pool, 11, seed=0)


def test_rewardbench_real_file(shared_data):
    records = load_rewardbench(f"{shared_data}/rewardbench/filtered.jsonl")
    assert len(records) == 2985
    assert len({r.key for r in records}) == 2985
    assert {r.subset for r in records} == set(REWARDBENCH_WEIGHTS)
    assert all(r.section == SUBSET_SECTION[r.subset] for r in records)
    pool, rest = split_pool(records, 130)
    assert len(pool) == 4 * 130 and len(rest) == 2985 - 520


def test_evalbiasbench_real_file(shared_data):
    records = load_evalbiasbench(f"{shared_data}/evalbiasbench/biasbench.json")
    assert len(records) == 80
    assert len({r.subset for r in records}) == 6
    assert len({r.key for r in records}) == 80


def test_evalbiasbench_bad_label(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"length bias": [{"instruction": "q", "response1": "a", "response2": "b", "label": 3}]}))
    with pytest.raises(BenchmarkError, match=r"\['length bias'\]\[0\]: field 'label'"):
        load_evalbiasbench(path)


def test_pair_files_report_undecodable_and_bad_rows_together_and_empty_files_clearly(tmp_path):
    from activation_rm.eval.benchmarks import BenchmarkError, load_pairs
    from activation_rm.inputs.data import EmptyInputError

    path = tmp_path / "pairs.jsonl"
    path.write_bytes(b'{"prompt":"caf\xe9","chosen":"a","rejected":"b"}\n{"prompt": 1, "chosen": "a", "rejected": "b"}\n'
                     b'{"prompt": "q", "chosen": "a", "rejected": "b"}\n{"prompt": "q", "chosen": "a"\n')
    with pytest.raises(BenchmarkError) as info:
        load_pairs(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"3 bad row(s) in {path}:"
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [f"{path}:1", f"{path}:2", f"{path}:4"]
    assert "not valid UTF-8 (byte 0xe9 at offset 14)" in lines[1] and "truncated?" in lines[3]
    path.write_text("\n\n")
    with pytest.raises(EmptyInputError, match="pairs.jsonl: the file has no JSON rows"):
        load_pairs(path)
