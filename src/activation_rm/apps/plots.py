"""Pictures of a fitted reward model: the layer x head map of inclusion probabilities."""

from __future__ import annotations

import os
from pathlib import Path

import torch


def head_heatmap(probs: torch.Tensor, mask: torch.Tensor, path: str | os.PathLike, title: str = "") -> Path:
    """Save a PNG heat map of ``probs`` (layers x heads) with the selected heads outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers, heads = probs.shape
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * heads + 2), max(3.0, 0.22 * layers + 1.5)))
    image = ax.imshow(probs.float().numpy(), aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, origin="lower")
    for layer, head in mask.nonzero().tolist():
        ax.add_patch(plt.Rectangle((head - 0.5, layer - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.2))
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title(title or f"inclusion probability ({int(mask.sum())} heads selected, red)")
    fig.colorbar(image, ax=ax, label="P(include)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path
