"""Which heads separate the verdicts on their own: per head, the class means of the Yes and No queries' last-token
activations and how often an item's activation is nearer (cosine) to its own class's mean. This is how sparse
attention vectors (SAV) rank heads; the evaluation's SAV judge votes with the best heads, and head selection can
start REINFORCE from them (``SelectionConfig(init="sav")``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HeadClassifier:
    """Nearest-class-mean classifier per head. ``means`` is ``(2, layers * heads, head_dim)``: class 0, then 1."""

    means: torch.Tensor

    @classmethod
    def fit(cls, heads: torch.Tensor, labels: torch.Tensor) -> HeadClassifier:
        """``heads`` ``(N, layers, heads, head_dim)`` and ``labels`` ``(N,)`` in {0, 1}, both classes present."""
        flat = heads.flatten(1, 2).float()
        present = {int(c) for c in labels.tolist()}
        if present != {0, 1}:
            raise ValueError(f"ranking heads needs items of both classes, got classes {sorted(present)}")
        return cls(torch.stack([flat[labels == c].mean(0) for c in (0, 1)]))

    def predict(self, heads: torch.Tensor) -> torch.Tensor:
        """``(N, layers * heads)``: the class whose mean each head's activation is nearer to (cosine)."""
        flat = heads.flatten(1, 2).float()
        sims = torch.nn.functional.cosine_similarity(flat[:, None], self.means[None], dim=-1)  # (N, 2, L*H)
        return sims.argmax(1)

    def accuracy(self, heads: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``(layers * heads,)``: each head's share of ``labels`` it predicts."""
        return (self.predict(heads) == labels[:, None]).float().mean(0)

    def ranking(self, heads: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Heads by their accuracy on ``heads``/``labels``: flat head indices best first (stable: ties keep
        layer-then-head order) and each head's accuracy, both ``(layers * heads,)``."""
        accuracy = self.accuracy(heads, labels)
        return torch.argsort(accuracy, descending=True, stable=True), accuracy


def rank_heads(heads: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heads by nearest-class-mean accuracy on the items themselves (SAV's ranking), as
    :meth:`HeadClassifier.ranking` gives it."""
    return HeadClassifier.fit(heads, labels).ranking(heads, labels)


def top_heads_mask(heads: torch.Tensor, labels: torch.Tensor, count: int) -> torch.Tensor:
    """``(layers, heads)`` bool: the ``count`` best-ranked heads."""
    order, _ = rank_heads(heads, labels)
    mask = torch.zeros(heads.shape[1] * heads.shape[2], dtype=torch.bool)
    mask[order[:count]] = True
    return mask.view(heads.shape[1], heads.shape[2])
