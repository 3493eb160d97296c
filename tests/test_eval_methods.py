"""activation_rm.eval.methods: every judge of the evaluation behind one interface, each checked against a plain
recomputation of what it should give."""

import pytest
import torch
from tiny import greedy_reference, tiny_backbone

from activation_rm.eval.generation import Generation, parse_verdict
from activation_rm.eval.methods import (
    ARMGroup,
    FitContext,
    GenerativeGroup,
    ICLGroup,
    ZeroShotGroup,
    build_groups,
    chosen_first,
)
from activation_rm.eval.records import PairRecord
from activation_rm.eval.settings import EvalSettings
from activation_rm.judge.templates import PAIRWISE, POINTWISE, JudgeItem, JudgeTemplate, QueryEncoder
from activation_rm.scoring.reward_model import ActivationRM, pair_correct


@pytest.fixture(scope="module")
def backbone():
    return tiny_backbone("llama")


def _records(n, offset=0):
    return [PairRecord(str(i), "s", f"What is {i} plus {i}?", f"{2 * i}.", f"{2 * i + 1}, the quick brown fox.")
            for i in range(offset, offset + n)]


SETTINGS = EvalSettings(max_length=256, steps=2, masks_per_step=4, n_contexts=3, n_shots=1, votes=3, sav_heads=4,
                        ablations=True)


def _ctx(backbone, seed=0):
    return FitContext(backbone, "the answer is correct", _records(6), seed, SETTINGS)


def test_zero_shot_and_sav(backbone):
    group = ZeroShotGroup()
    group.fit(_ctx(backbone))
    assert len(group.sav_top) == 4
    out = group.judge(_records(3, offset=10))
    assert set(out) == {"zeroshot_prob", "sav"}
    for verdicts in out.values():
        assert len(verdicts) == 3
        assert [v.correct for v in verdicts] == [pair_correct(v.score_chosen, v.score_rejected) for v in verdicts]
    # zero-shot P(Yes) is the unsteered reward of the same query: softmax over (Yes, No) of one plain forward pass
    v = out["zeroshot_prob"][0]
    assert 0 <= v.score_chosen <= 1 and v.correct == (1.0 if v.score_chosen > v.score_rejected else 0.0)
    record = _records(3, offset=10)[0]
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", POINTWISE, max_length=256))
    yes, no = encoder.verdict_ids
    for response, score in ((record.chosen, v.score_chosen), (record.rejected, v.score_rejected)):
        ids = encoder.encode(JudgeItem(record.prompt, (response,))).ids
        with torch.no_grad():
            last = backbone.model(input_ids=torch.tensor([ids])).logits[0, -1].double()
        assert abs(score - float(torch.softmax(last[[yes, no]], -1)[0])) < 1e-5


def _full_ids(group, item: JudgeItem) -> list[int]:
    """The tokens a demonstration judge runs for ``item``: its demonstration turns, then the query."""
    query, _ = group.encoder.demo_turns([(item, None)])
    return group.encoder.tokenize_turns([*group.turns, *query])


def test_icl_uses_shared_prefix(backbone):
    group = ICLGroup()
    info = group.fit(_ctx(backbone))
    assert info["demonstrations"] == 4 and info["prefix_tokens"] > 0
    records = _records(2, offset=10)
    out = group.judge(records)["icl_prob"]
    assert len(out) == 2 and group.runner.reused == 4 and group.runner.full == 0
    assert "What is 0 plus 0?" in backbone.tokenizer.decode(group.runner.prefix)  # a few-shot pair is shown
    yes, no = group.encoder.verdict_ids
    for record, verdict in zip(records, out):  # P(Yes) by one plain forward pass over demonstrations and query
        probs = []
        for response in (record.chosen, record.rejected):
            ids = _full_ids(group, JudgeItem(record.prompt, (response,)))
            assert ids[: len(group.runner.prefix)] == group.runner.prefix
            with torch.no_grad():
                last = backbone.model(input_ids=torch.tensor([ids])).logits[0, -1].double()
            probs.append(float(torch.softmax(last[[yes, no]], -1)[0]))
        assert (verdict.score_chosen, verdict.score_rejected) == pytest.approx(probs, abs=1e-5)
        assert verdict.correct == pair_correct(*probs)


def test_generative_counts_parse_failures(backbone):
    """The greedy verdict is what a plain greedy loop (full forward passes, no cache) writes after the same tokens;
    text that does not start with A or B counts wrong and is flagged."""
    group = GenerativeGroup(fewshot=True, votes=True)
    group.fit(_ctx(backbone))
    records = _records(3, offset=10)
    out = group.judge(records)
    assert set(out) == {"gen_fewshot", "vote_fewshot"}
    for record, verdict in zip(records, out["gen_fewshot"]):
        first = chosen_first(record.key, SETTINGS.order_seed)
        a, b = (record.chosen, record.rejected) if first else (record.rejected, record.chosen)
        text = greedy_reference(backbone, _full_ids(group, JudgeItem(record.prompt, (a, b))), SETTINGS.max_new_tokens)
        parsed = parse_verdict(text, ("A", "B"))
        assert verdict.extra == {"text": text[:40], "chosen_first": first}
        assert verdict.parsed == (parsed is not None)
        assert verdict.correct == (0.0 if parsed is None else float(parsed == (0 if first else 1)))
    for vote in out["vote_fewshot"]:
        assert vote.correct == (pair_correct(vote.score_chosen, vote.score_rejected) if vote.parsed else 0.0)


def test_generative_verdicts_follow_the_seeded_presentation_order(backbone, monkeypatch):
    # The model always answers "A" (votes A, B, A): right exactly when the chosen response was shown first.
    import activation_rm.eval.methods as methods

    monkeypatch.setattr(methods, "generate_verdicts", lambda *args, **kwargs: Generation("A", ["A", "B", "A"]))
    group = GenerativeGroup(fewshot=False, votes=True)
    group.fit(_ctx(backbone))
    prompts = []
    run = group.runner.run
    monkeypatch.setattr(group.runner, "run", lambda ids: prompts.append(backbone.tokenizer.decode(ids)) or run(ids))
    records = _records(8, offset=10)
    out = group.judge(records)
    firsts = [chosen_first(r.key, SETTINGS.order_seed) for r in records]
    assert set(firsts) == {True, False}  # both orders occur among these keys
    for r, first, text, greedy, vote in zip(records, firsts, prompts, out["gen_zeroshot"], out["vote_zeroshot"]):
        a, b = (r.chosen, r.rejected) if first else (r.rejected, r.chosen)
        assert f"Response A: {a}\nResponse B: {b}\n" in text
        assert greedy.extra["chosen_first"] == first and greedy.parsed
        assert greedy.correct == (1.0 if first else 0.0)
        assert vote.correct == (1.0 if first else 0.0)
        assert vote.score_chosen == pytest.approx(2 / 3 if first else 1 / 3)
    # the order is a per-pair coin: about half of many keys put the chosen response first, and the seed reshuffles
    coins = [chosen_first(str(i), 0) for i in range(400)]
    assert 160 < sum(coins) < 240
    assert coins != [chosen_first(str(i), 1) for i in range(400)]


def test_arm_group_and_ablations(backbone, tmp_path, monkeypatch):
    zero = ZeroShotGroup()
    ctx = _ctx(backbone)
    ctx.artifacts = tmp_path
    zero.fit(ctx)
    group = ARMGroup(POINTWISE, zero, ablations=True)
    info = group.fit(ctx)
    assert (tmp_path / "arm_pointwise").exists()
    assert set(group.variants) == {"arm_pointwise", "arm_all_heads", "arm_random_heads", "arm_sav_heads"}
    count = info["heads"]
    assert int(group.variants["arm_random_heads"].mask.sum()) == count
    assert int(group.variants["arm_sav_heads"].mask.sum()) == count
    records = _records(2, offset=10)
    out = group.judge(records)
    assert set(out) == set(group.variants)
    assert torch.equal(group.variants["arm_all_heads"].mask, torch.ones_like(group.rm.mask))
    for name, verdicts in out.items():  # each variant's own reward of both responses
        rm = group.variants[name]
        chosen = rm.score([r.prompt for r in records], [r.chosen for r in records])
        rejected = rm.score([r.prompt for r in records], [r.rejected for r in records])
        assert [(v.key, v.score_chosen, v.score_rejected) for v in verdicts] == [
            (r.key, pytest.approx(c, abs=1e-6), pytest.approx(x, abs=1e-6)) for r, c, x in zip(records, chosen, rejected)]
        assert [v.correct for v in verdicts] == [pair_correct(v.score_chosen, v.score_rejected) for v in verdicts]
    again = ARMGroup(POINTWISE, zero, ablations=True)

    def no_refit(*args, **kwargs):
        raise AssertionError("the saved artifact should have been loaded")

    monkeypatch.setattr(ActivationRM, "fit", no_refit)
    again.fit(ctx)  # reloads the saved artifact instead of refitting
    assert torch.equal(again.rm.mask, group.rm.mask)
    monkeypatch.undo()
    pairwise = ARMGroup(PAIRWISE)
    pairwise.fit(_ctx(backbone))
    verdicts = pairwise.judge(records)["arm_pairwise"]
    direct = pairwise.rm.compare([r.prompt for r in records], [r.chosen for r in records],
                                 [r.rejected for r in records])
    assert [v.score_chosen for v in verdicts] == pytest.approx(direct.score_a, abs=1e-6)
    assert [v.score_rejected for v in verdicts] == pytest.approx(direct.score_b, abs=1e-6)
    assert [v.correct for v in verdicts] == [pair_correct(c.score_a, c.score_b) for c in direct]


def test_build_groups_rejects_unknown():
    with pytest.raises(ValueError, match="unknown method"):
        build_groups(["magic"], False)
    names = [n for g in build_groups(["zeroshot_prob", "arm_pointwise"], True) for n in g.names]
    assert names == ["zeroshot_prob", "sav", "arm_pointwise", "arm_all_heads", "arm_random_heads", "arm_sav_heads"]
