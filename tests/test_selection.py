"""activation_rm.fit.selection: REINFORCE over head masks, the mask losses on shared prefixes (text and
vision-language backbones) and the final pick."""

import pytest
import torch
from tiny import tiny_backbone
from tiny_vision import mixed_items, vision_encoder

from activation_rm.fit.head_ranking import top_heads_mask
from activation_rm.fit.selection import (
    MaskScorer,
    SelectionConfig,
    VerdictQuery,
    best_of_samples,
    initial_logits,
    mask_losses,
    reinforce,
    select_heads,
    select_heads_with,
)
from activation_rm.forward.batching import last_token_logits
from activation_rm.model.heads import Steering


def test_reinforce_recovers_a_planted_head_set():
    shape = (6, 8)
    planted = torch.zeros(shape, dtype=torch.bool)
    planted[1, 2] = planted[3, 5] = planted[4, 0] = planted[5, 7] = True
    noise = torch.Generator().manual_seed(3)

    def loss_fn(masks, step):
        # Best when exactly the planted heads are on: each missed planted head and each extra head costs.
        missed = (planted & ~masks).sum((1, 2)).float()
        extra = (~planted & masks).sum((1, 2)).float()
        return 2.0 * missed + 0.5 * extra + 0.1 * torch.randn(masks.shape[0], generator=noise)

    probs, history = reinforce(loss_fn, shape, SelectionConfig(steps=300, masks_per_step=32), seed=0)
    assert torch.equal(probs > 0.5, planted)
    assert history[-1] < history[0]
    mask, scores = best_of_samples(probs, lambda m: -loss_fn(m, 0), n_samples=10)
    assert torch.equal(mask, planted) and len(scores) == 10


def test_reinforce_is_deterministic_for_a_seed():
    def loss_fn(masks, step):
        return masks.float().sum((1, 2)) + masks[:, 0, 0].float() * -5

    a, _ = reinforce(loss_fn, (3, 4), SelectionConfig(steps=20), seed=7)
    b, _ = reinforce(loss_fn, (3, 4), SelectionConfig(steps=20), seed=7)
    c, _ = reinforce(loss_fn, (3, 4), SelectionConfig(steps=20), seed=8)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_mask_losses_match_full_passes_and_cache_changes_nothing():
    backbone = tiny_backbone("qwen2")
    query = VerdictQuery(list(range(20, 45)), target=7, other=8)
    means = torch.randn(3, 4, 16)
    masks = torch.rand(6, 3, 4, generator=torch.Generator().manual_seed(0)) < 0.5
    cache = MaskScorer(backbone)
    cached_first = mask_losses(backbone, query, masks, means, cache)
    cached_again = mask_losses(backbone, query, masks, means, cache)
    uncached = mask_losses(backbone, query, masks, means)
    full = last_token_logits(backbone, [query.ids] * 6, steering=Steering(masks, means)).logits
    expected = torch.nn.functional.cross_entropy(full, torch.full((6,), 7), reduction="none")
    torch.testing.assert_close(cached_first, expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(cached_again, cached_first, rtol=0, atol=0)
    torch.testing.assert_close(uncached, cached_first, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_verdict_rows_only_give_the_full_logits_of_those_tokens(family):
    backbone = tiny_backbone(family)
    query = VerdictQuery(list(range(20, 45)), target=7, other=30)
    means = torch.randn(3, 4, 16)
    masks = torch.rand(6, 3, 4, generator=torch.Generator().manual_seed(1)) < 0.5
    head = backbone.model.get_output_embeddings()
    for shared in (True, False):
        scorer = MaskScorer(backbone, shared_prefix=shared)
        full = scorer.logits(query.query, masks, means)
        rows = scorer.logits(query.query, masks, means, read_ids=[30, 7])
        assert rows.shape == (6, 31) and rows[:, [0, 8, 29]].isnan().all()
        torch.testing.assert_close(rows[:, [7, 30]], full[:, [7, 30]], rtol=1e-5, atol=1e-5)
    assert backbone.model.get_output_embeddings() is head  # the projection is put back


def test_selection_reading_verdicts_only_matches_the_full_vocabulary_path():
    backbone = tiny_backbone("qwen2")
    train = [VerdictQuery(list(range(10 + i, 30 + i)), 5 + i % 2, 6 - i % 2, pair=i // 2) for i in range(4)]
    means = torch.randn(3, 4, 16) * 3
    config = SelectionConfig(steps=12, masks_per_step=8, final_samples=3)  # pair loss, "loss" final rule
    scorer = MaskScorer(backbone)
    rows = select_heads(backbone, train, train[:2], means, config, seed=2, scorer=scorer)
    full = select_heads_with(lambda q, m: scorer.logits(q.query, m, means), train, train[:2],
                             (backbone.num_layers, backbone.num_heads), config, seed=2)
    assert rows.loss_history == pytest.approx(full.loss_history, abs=1e-5)
    assert torch.equal(rows.mask, full.mask)
    assert rows.candidate_scores == pytest.approx(full.candidate_scores, abs=1e-5)


def test_select_heads_on_a_model_is_seeded():
    backbone = tiny_backbone("llama")
    train = [VerdictQuery(list(range(10 + i, 30 + i)), 5, 6) for i in range(4)]
    means = torch.randn(3, 4, 16) * 3
    config = SelectionConfig(steps=15, masks_per_step=8, final_samples=3)
    a = select_heads(backbone, train, train[:2], means, config, seed=1)
    b = select_heads(backbone, train, train[:2], means, config, seed=1)
    assert torch.equal(a.mask, b.mask) and torch.equal(a.probs, b.probs)
    assert a.loss_history == b.loss_history and len(a.loss_history) == 15


def test_paper_settings_are_the_papers():
    # The paper's procedure as select_heads_with runs it (not its field values): 600 steps of 32 masks, the full-
    # vocabulary cross-entropy as the loss, inclusion logits starting at -1 and moving by lr=0.1 (Adam's first step),
    # then the best of 10 candidates by held-out accuracy minus 1e-3 x that cross-entropy.
    from activation_rm.fit.selection import select_heads_with

    vocab, seen = 5, []

    def logits_of(query, masks):  # head (0, 0) makes the correct verdict win; the other heads do nothing
        seen.append(masks.clone())
        logits = torch.zeros(masks.shape[0], vocab)
        logits[:, query.target] = 2.0 * masks[:, 0, 0].float()
        return logits

    def vocab_ce(masks):  # cross-entropy of the target: logsumexp over the 5 logits minus the target's
        x = 2.0 * masks[:, 0, 0].double()
        return torch.log(vocab - 1 + torch.exp(x)) - x

    query = VerdictQuery([1], 0, 1)
    result = select_heads_with(logits_of, [query], [], (3, 4), SelectionConfig.paper(), seed=0)
    assert len(seen) == 601 and all(m.shape == (32, 3, 4) for m in seen[:600]) and seen[600].shape == (10, 3, 4)
    torch.testing.assert_close(torch.tensor(result.loss_history, dtype=torch.float64),
                               torch.stack([vocab_ce(m).mean() for m in seen[:600]]))
    candidates = seen[600]
    expected = candidates[:, 0, 0].float() - 1e-3 * vocab_ce(candidates).float()
    torch.testing.assert_close(torch.tensor(result.candidate_scores), expected)
    assert result.probs[0, 0] > 0.9 and bool(result.mask[0, 0])
    untrained = select_heads_with(logits_of, [query], [], (3, 4), SelectionConfig.paper(steps=0), seed=0).probs
    torch.testing.assert_close(untrained, torch.sigmoid(torch.full((3, 4), -1.0)))
    seen.clear()
    one_step = select_heads_with(logits_of, [query], [], (3, 4), SelectionConfig.paper(steps=1), seed=0).probs
    assert 0 < int(seen[0][:, 0, 0].sum()) < 32  # the first step sampled head (0, 0) both ways
    torch.testing.assert_close(torch.logit(one_step[0, 0]), torch.tensor(-0.9), rtol=0, atol=1e-4)


def test_training_units_pair_by_id_then_by_verdict_and_fall_back_to_singles():
    from activation_rm.fit.selection import training_units

    yes, no = 5, 6
    queries = [VerdictQuery([1, 2], yes, no, pair=0), VerdictQuery([1, 3], no, yes, pair=0),
               VerdictQuery([4, 2], yes, no, pair=1),  # its partner is missing
               VerdictQuery([4, 4], no, yes), VerdictQuery([7, 7], yes, no)]
    units = training_units(queries, "pair", seed=0)
    assert (0, 1) in units and len(units) == 2
    leftover = [u for u in units if u != (0, 1)][0]
    assert queries[leftover[0]].target == yes and queries[leftover[1]].target == no
    assert training_units(queries, "verdicts") == [(i,) for i in range(5)]
    same_verdict = [VerdictQuery([1, 2], yes, no), VerdictQuery([1, 3], yes, no)]
    assert training_units(same_verdict, "pair") == [(0,), (1,)]


def test_pair_loss_ignores_a_shift_shared_by_both_queries():
    from activation_rm.fit.selection import unit_losses

    yes, no = 0, 1
    queries = [VerdictQuery([1], yes, no), VerdictQuery([2], no, yes)]
    chosen = torch.tensor([[2.0, 0.5, 9.0], [0.0, 1.0, 9.0]])  # two masks: margins 1.5 and -1.0 for Yes
    rejected = torch.tensor([[0.0, 0.3, 9.0], [0.2, 0.0, 9.0]])
    shifted = [chosen + torch.tensor([3.0, 0.0, 0.0]), rejected + torch.tensor([3.0, 0.0, 0.0])]
    pair = unit_losses([chosen, rejected], queries, "pair")
    torch.testing.assert_close(pair, unit_losses(shifted, queries, "pair"))
    torch.testing.assert_close(pair, torch.nn.functional.softplus(-torch.tensor([1.5 + 0.3, -1.0 - 0.2])))
    assert not torch.allclose(unit_losses([chosen, rejected], queries, "verdicts"),
                              unit_losses(shifted, queries, "verdicts"))


def test_final_rule_loss_picks_the_candidate_with_the_lowest_selection_loss():
    from activation_rm.fit.selection import final_scores

    query = VerdictQuery([1], 0, 1)
    # three candidate masks, all "correct" (accuracy ties), with margins 0.1, 2.0 and 0.5
    logits = torch.tensor([[0.1, 0.0], [2.0, 0.0], [0.5, 0.0]])
    loss_rule = final_scores(lambda q, m: logits, [query], torch.zeros(3, 1, 1, dtype=torch.bool),
                             SelectionConfig(loss="verdicts", final_rule="loss"))
    accuracy_rule = final_scores(lambda q, m: logits, [query], torch.zeros(3, 1, 1, dtype=torch.bool),
                                 SelectionConfig.paper())
    assert int(loss_rule.argmax()) == 1
    assert torch.all(accuracy_rule > 0.99)  # all correct: only the tiny vocabulary-loss term separates them


def test_fit_configs_report_the_bad_fields_of_all_three_objects_at_once():
    from activation_rm.inputs.checks import ConfigError
    from activation_rm.scoring.reward_model import fit_configs

    with pytest.raises(ConfigError) as caught:
        fit_configs(None, None, None, {"criterion": " ", "max_length": 5, "n_contexts": 0, "steps": -3})
    assert [(p.owner, p.field) for p in caught.value.problems] == [
        ("JudgeTemplate", "criterion"), ("JudgeTemplate", "max_length"), ("ContextConfig", "n_contexts"),
        ("SelectionConfig", "steps")]


def test_head_selection_on_a_vlm_with_shared_prefixes_matches_full_passes(vision_backbone):
    from activation_rm.judge.queries import VerdictQuery

    backbone = vision_backbone
    encoder = vision_encoder(backbone)
    ids = encoder.verdict_ids
    queries = [VerdictQuery(encoder.encode(item), ids[i % 2], ids[1 - i % 2]) for i, item in enumerate(mixed_items())]
    train, held = queries[:3], queries[3:]
    # large values so that the masks' losses differ by far more than float noise, which z-scoring would amplify
    means = 30 * torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim,
                             generator=torch.Generator().manual_seed(3))
    config = SelectionConfig(steps=4, masks_per_step=6, final_samples=3)
    cached = select_heads(backbone, train, held, means, config, seed=5, scorer=MaskScorer(backbone, shared_prefix=True))
    full = select_heads(backbone, train, held, means, config, seed=5, scorer=MaskScorer(backbone, shared_prefix=False))
    assert cached.loss_history == pytest.approx(full.loss_history, abs=1e-5)  # the same losses at every step
    # Adam scales each head's gradient to ~lr, so float noise in the centred advantages of an unsampled head
    # (theoretically 0) moves it slightly differently on the two paths: compare probabilities loosely.
    torch.testing.assert_close(cached.probs, full.probs, rtol=0, atol=1e-2)
    assert torch.equal(cached.mask, full.mask)
    assert cached.candidate_scores == pytest.approx(full.candidate_scores, abs=1e-5)


def test_reinforce_starts_from_the_given_logits():
    start = torch.full((2, 3), -2.0)
    start[1, 2] = 1.5
    probs, _ = reinforce(lambda m, s: m.float().sum((1, 2)), (2, 3), SelectionConfig(steps=0), init_logits=start)
    torch.testing.assert_close(probs, torch.sigmoid(start))


def test_sav_init_starts_the_best_separating_heads_higher():
    backbone = tiny_backbone("qwen2")
    train = [VerdictQuery(list(range(10 + i, 30 + i)), 5 + i % 2, 6 - i % 2, pair=i // 2) for i in range(6)]
    config = SelectionConfig(init="sav", init_heads=3, init_top_logit=2.0, init_logit=-1.5)
    logits = initial_logits(backbone, train, config)
    heads = last_token_logits(backbone, [q.query for q in train], record=True).heads
    expected = top_heads_mask(heads, torch.tensor([i % 2 for i in range(6)]), 3)
    assert torch.equal(logits == 2.0, expected) and int((logits == -1.5).sum()) == logits.numel() - 3
    assert initial_logits(backbone, train, SelectionConfig()) is None


def test_sav_init_with_one_verdict_starts_uniform(caplog):
    backbone = tiny_backbone("llama")
    train = [VerdictQuery(list(range(10 + i, 30 + i)), 5, 6) for i in range(3)]
    assert initial_logits(backbone, train, SelectionConfig(init="sav")) is None
    assert "both verdicts" in caplog.text


def test_sav_init_changes_selection_and_stays_seeded():
    backbone = tiny_backbone("qwen2")
    train = [VerdictQuery(list(range(10 + i, 30 + i)), 5 + i % 2, 6 - i % 2, pair=i // 2) for i in range(4)]
    means = torch.randn(3, 4, 16) * 3
    config = SelectionConfig(steps=0, masks_per_step=8, final_samples=4, init="sav", init_heads=2,
                             init_top_logit=8.0, init_logit=-8.0)
    a = select_heads(backbone, train, [], means, config, seed=1)
    b = select_heads(backbone, train, [], means, config, seed=1)
    assert torch.equal(a.mask, b.mask)
    assert torch.equal(a.mask, initial_logits(backbone, train, config) > 0)  # saturated start, no steps
