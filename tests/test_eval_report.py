from activation_rm.eval.report import length_preference, markdown, summarize


def _rows(method, results, bench="PH", subset="length"):
    return [{"benchmark": bench, "seed": 0, "method": method, "key": k, "subset": subset, "correct": c,
             "parsed": p, "seconds": 0.1} for k, c, p in results]


def test_length_preference_counts_decided_verdicts_only():
    lengths = {"a": (10, 5), "b": (10, 5), "c": (3, 9), "d": (4, 4), "e": (9, 1)}
    rows = _rows("m", [("a", 1.0, True), ("b", 0.0, True), ("c", 1.0, True), ("d", 1.0, True), ("e", 0.0, False)])
    assert length_preference(rows, lengths) == round(1 / 3, 4)  # ties in length and parse failures excluded
    assert length_preference([], lengths) is None


def test_markdown_shows_bias_next_to_control_and_parse_failures():
    rows = (_rows("zeroshot_prob", [("a", 1.0, True), ("b", 0.0, True)])
            + _rows("zeroshot_prob", [("c", 0.0, True)], subset="length-control")
            + _rows("arm_pointwise", [("a", 1.0, True), ("b", 1.0, True)])
            + _rows("arm_pointwise", [("c", 1.0, True)], subset="length-control")
            + _rows("gen_fewshot", [("a", 0.0, False), ("b", 1.0, True), ("c", 0.0, True)]))
    summary = summarize(rows, {"PH": "mean"}, {"PH": {"length": "length-control"}},
                        lengths={"PH": {"a": (9, 3), "b": (9, 3), "c": (2, 8)}})
    entry = summary["PH"]
    assert entry["methods"]["gen_fewshot"]["parse_failures"] == 1
    assert entry["paired"]["arm_pointwise"]["zeroshot_prob"]["wins"] == 2
    text = markdown(summary)
    header = next(line for line in text.splitlines() if line.startswith("| Method"))
    assert "PH length | PH length-control" in header
    assert "gen_fewshot: 1/3" in text
    assert "Length diagnostic" in text


def test_ablation_table_uses_the_ablation_seeds_and_items_only():
    rows = (_rows("arm_pointwise", [("a", 1.0, True), ("b", 1.0, True), ("c", 0.0, True)])
            + _rows("arm_all_heads", [("a", 0.5, True), ("b", 0.5, True)]))
    rows.append({**rows[0], "seed": 1, "correct": 0.0})
    summary = summarize(rows, {"PH": "mean"}, {})
    ablation = summary["PH"]["ablation"]
    assert ablation["n_items"] == 2 and ablation["seeds"] == ["0"]
    assert ablation["methods"]["arm_pointwise"][0] == 1.0  # item c and seed 1 are not in the ablation
    assert "same seeds and items" in markdown(summary)
