"""activation_rm.fit.head_ranking: nearest-class-mean accuracy per head (SAV's ranking)."""

import pytest
import torch

from activation_rm.fit.head_ranking import HeadClassifier, rank_heads, top_heads_mask


def planted(n: int = 40, layers: int = 3, heads: int = 4, dim: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise everywhere; head (2, 1) carries the label fully, head (0, 3) half the time."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 2
    acts = torch.randn(n, layers, heads, dim, generator=generator)
    sign = (labels * 2 - 1).float()[:, None]
    acts[:, 2, 1] = sign * torch.ones(dim) + 0.05 * acts[:, 2, 1]
    half = torch.arange(n) < n // 2
    acts[half, 0, 3] = sign[half] * torch.ones(dim) + 0.05 * acts[half, 0, 3]
    return acts, labels


def test_the_separating_head_ranks_first_then_the_half_separating_one():
    acts, labels = planted()
    order, accuracy = rank_heads(acts, labels)
    assert order[0] == 2 * 4 + 1 and accuracy[order[0]] == 1.0
    assert order[1] == 0 * 4 + 3
    assert top_heads_mask(acts, labels, 1).nonzero().tolist() == [[2, 1]]
    assert top_heads_mask(acts, labels, 2).nonzero().tolist() == [[0, 3], [2, 1]]


def test_classifier_predicts_by_cosine_to_the_class_means():
    acts, labels = planted()
    classifier = HeadClassifier.fit(acts, labels)
    torch.testing.assert_close(classifier.means[1, 9], acts[labels == 1, 2, 1].mean(0))
    fresh = torch.zeros(2, 3, 4, 8)
    fresh[0, 2, 1], fresh[1, 2, 1] = -1.0, 1.0
    assert classifier.predict(fresh)[:, 9].tolist() == [0, 1]


def test_the_classifier_ranking_is_rank_heads():
    acts, labels = planted()
    order, accuracy = HeadClassifier.fit(acts, labels).ranking(acts, labels)
    expected_order, expected_accuracy = rank_heads(acts, labels)
    assert torch.equal(order, expected_order) and torch.equal(accuracy, expected_accuracy)
    assert accuracy[order].tolist() == sorted(accuracy.tolist(), reverse=True)


def test_one_class_is_an_error():
    acts, _ = planted()
    with pytest.raises(ValueError, match="both classes"):
        HeadClassifier.fit(acts, torch.zeros(len(acts), dtype=torch.long))
