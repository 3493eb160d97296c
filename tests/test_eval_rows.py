"""activation_rm.eval.rows: the one append-only, resumable result-row store of eval, eval --sweep and the accuracy
benchmark."""

from __future__ import annotations

import json

import pytest

from activation_rm.eval.rows import RowStore, RowStoreError, read_all_rows, read_rows

KEY = ("benchmark", "seed", "method", "key")


def _row(seed, method, key, **extra):
    return {"benchmark": "B", "seed": seed, "method": method, "key": key, "correct": 1.0, **extra}


def test_rows_append_resume_and_skip_what_is_there(tmp_path):
    path = tmp_path / "items.jsonl"
    store = RowStore(path, KEY)
    assert len(store) == 0 and not path.exists()
    assert store.add([_row(0, "m", "a"), _row(0, "m", "b"), _row(0, "m", "a", correct=0.0)]) == 2
    assert store.add(_row(1, "m", "a")) == 1 and store.add(_row(1, "m", "a")) == 0  # adding is idempotent
    assert [json.loads(line)["seed"] for line in path.read_text().splitlines()] == [0, 0, 1]
    again = RowStore(path, KEY)  # a rerun knows every key and the rows as written
    assert ("B", 0, "m", "b") in again and ("B", 2, "m", "a") not in again
    assert again.rows == store.rows and again.by_key[("B", 0, "m", "a")]["correct"] == 1.0
    single = RowStore(tmp_path / "rows.jsonl")  # one key field: the key is its value
    single.add({"key": "t|x|seed0", "correct": [1.0]})
    assert "t|x|seed0" in RowStore(tmp_path / "rows.jsonl") and len(single) == 1
    with pytest.raises(RowStoreError, match=r"without the key field\(s\) \['method'\]"):
        store.add({"benchmark": "B", "seed": 0, "key": "c"})


def test_a_torn_last_line_is_redone_and_cut_before_the_next_append(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"key": "a", "v": 1}) + "\n" + '{"key": "b", "v"')
    store = RowStore(path)
    assert list(store.by_key) == ["a"]
    assert path.read_text().endswith('"v"')  # reading changes nothing (another process may still be writing)
    store.add({"key": "b", "v": 2})
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"key": "a", "v": 1}, {"key": "b", "v": 2}]


def test_a_corrupt_or_foreign_line_is_refused_naming_it(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"key": "a"}\n{"key": "b", "v"\n{"key": "c"}\n')
    with pytest.raises(RowStoreError, match=r"rows.jsonl:2: corrupt results line \(not the last line"):
        RowStore(path)
    path.write_text('{"key": "a"}\n[1, 2]\n')
    with pytest.raises(RowStoreError, match=r"rows.jsonl:2: not a results row \(a JSON list"):
        RowStore(path)
    path.write_text('{"key": "a"}\n{"benchmark": "B", "seed": 0}\n')
    with pytest.raises(RowStoreError, match=r"rows.jsonl:2: not a row of this store: no field\(s\) \['key'\]"):
        RowStore(path)
    assert read_rows(path) == [{"key": "a"}, {"benchmark": "B", "seed": 0}]  # without a key, any object reads
    with pytest.raises(ValueError, match="rows.jsonl:2"):  # RowStoreError is a ValueError
        read_rows(path, ("key",))


def test_a_run_store_writes_its_shard_and_knows_every_shard(tmp_path):
    RowStore.of_run(tmp_path, "items", KEY, shard="s0").add([_row(0, "m", "a"), _row(0, "m", "b")])
    other = RowStore.of_run(tmp_path, "items", KEY, shard="s1")
    assert ("B", 0, "m", "a") in other and other.path.name == "items-s1.jsonl"
    assert other.add([_row(0, "m", "a"), _row(1, "m", "a")]) == 1
    plain = RowStore.of_run(tmp_path, "items", KEY)
    assert plain.path.name == "items.jsonl" and len(plain) == 3
    assert RowStore.of_run(tmp_path, "fits", ("benchmark", "seed", "group")).rows == []
    assert [r["seed"] for r in read_all_rows(tmp_path)] == [0, 0, 1]
    with pytest.raises(TypeError, match="non-empty sequence"):
        RowStore(tmp_path / "x.jsonl", "key")
