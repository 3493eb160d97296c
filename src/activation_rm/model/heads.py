"""The intervention: forward pre-hooks on every layer's attention output projection.

At the last real token of each sequence the hooks can record every head's output (the projection's input split
into ``num_heads`` chunks of ``head_dim``) and replace a chosen set of heads with given vectors. Nothing else in the
forward pass changes. The hooks never synchronise with the host: positions, masks and values are device tensors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from activation_rm.model.backbone import Backbone


def last_token_positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real (mask == 1) token in each row; right for left, right or no padding."""
    seq_len = attention_mask.shape[-1]
    flipped_first = attention_mask.flip(-1).to(torch.int64).argmax(-1)
    return seq_len - 1 - flipped_first


@dataclass
class Steering:
    """Which heads to steer and with what.

    ``mask`` is ``(layers, heads)`` bool, shared by the batch, or ``(batch, layers, heads)`` for one mask per
    sequence; ``values`` is ``(layers, heads, head_dim)``, or ``(batch, layers, heads, head_dim)`` for one set of
    values per sequence (several reward models steering their own rows of one batch). The masked heads' last-token
    outputs are *replaced* by the values (the paper's intervention), or with ``additive`` *shifted* by them (the
    head's own, item-specific output is kept); ``additive`` is one bool, or a ``(batch,)`` bool tensor per sequence.
    """

    mask: torch.Tensor
    values: torch.Tensor
    additive: bool | torch.Tensor = False

    def __post_init__(self) -> None:
        if self.mask.dtype != torch.bool:
            self.mask = self.mask.bool()
        if isinstance(self.additive, torch.Tensor):
            self.additive = self.additive.bool().reshape(-1)
        if self.mask.dim() not in (2, 3):
            raise ValueError(f"steering mask must be (layers, heads) or (batch, layers, heads), got {tuple(self.mask.shape)}")
        if self.values.dim() not in (3, 4):
            raise ValueError(f"steering values must be (layers, heads, head_dim) or (batch, layers, heads, head_dim), "
                             f"got {tuple(self.values.shape)}")
        if tuple(self.mask.shape[-2:]) != tuple(self.values.shape[-3:-1]):
            raise ValueError(f"mask {tuple(self.mask.shape)} does not fit values {tuple(self.values.shape)}")
        if self.values.dim() == 4 and self.mask.dim() == 3 and self.mask.shape[0] != self.values.shape[0]:
            raise ValueError(f"per-sequence mask {tuple(self.mask.shape)} and values {tuple(self.values.shape)} "
                             "differ in batch size")
        if isinstance(self.additive, torch.Tensor):
            batch = [t.shape[0] for t, dims in ((self.mask, 3), (self.values, 4)) if t.dim() == dims]
            if any(b != self.additive.shape[0] for b in batch):
                raise ValueError(f"per-sequence additive flags ({self.additive.shape[0]}) do not fit a batch of "
                                 f"{batch[0]}")

    @property
    def per_sequence(self) -> bool:
        """Whether the mask, the values or the intervention differ between the sequences of a batch."""
        return self.mask.dim() == 3 or self.values.dim() == 4 or isinstance(self.additive, torch.Tensor)

    def rows(self, indices: list[int] | torch.Tensor) -> Steering:
        """The steering of a subset of the batch's sequences (a shared mask, values or flag stay shared)."""
        mask = self.mask[indices] if self.mask.dim() == 3 else self.mask
        values = self.values[indices] if self.values.dim() == 4 else self.values
        additive = self.additive[indices] if isinstance(self.additive, torch.Tensor) else self.additive
        return Steering(mask, values, additive)

    def kept_share(self) -> torch.Tensor | None:
        """Weight of each steered head's own output under the values: None when every sequence replaces (the
        paper's intervention, computed as a plain select), else 1.0 where a sequence shifts and 0.0 where it
        replaces (a scalar, or ``(batch, 1, 1)``)."""
        if isinstance(self.additive, torch.Tensor):
            return self.additive.float().view(-1, 1, 1) if bool(self.additive.any()) else None
        return torch.tensor(1.0) if self.additive else None


class HeadHooks:
    """State shared by the hooks of one :func:`head_hooks` context."""

    def __init__(self, backbone: Backbone, record: bool, steering: Steering | None) -> None:
        self.backbone = backbone
        self.record = record
        self.steering = steering
        self.positions: torch.Tensor | None = None
        self.recorded: list[torch.Tensor | None] = [None] * backbone.num_layers
        self._per_device: dict[tuple[str, int], torch.Tensor] = {}
        self._kept = steering.kept_share() if steering is not None else None
        self._layer_active = (
            steering.mask.reshape(-1, *steering.mask.shape[-2:]).any(0).any(-1).tolist()
            if steering is not None else [False] * backbone.num_layers
        )

    def set_positions(self, positions: torch.Tensor) -> None:
        """Where the hooks act in the next forward pass: one index per sequence."""
        self.positions = positions
        self._per_device = {k: v for k, v in self._per_device.items() if k[0] != "positions"}

    def _on(self, key: str, layer: int, tensor: torch.Tensor, device: torch.device,
            dtype: torch.dtype | None = None) -> torch.Tensor:
        """``tensor`` moved to ``device`` once per layer (``device_map="auto"`` spreads layers over devices)."""
        cache_key = (key, layer)
        cached = self._per_device.get(cache_key)
        if cached is None:
            cached = tensor.to(device=device, dtype=dtype or tensor.dtype, non_blocking=True)
            self._per_device[cache_key] = cached
        return cached

    def recorded_heads(self) -> torch.Tensor:
        """``(batch, layers, heads, head_dim)`` float32 on the CPU, from the last forward pass."""
        if any(r is None for r in self.recorded):
            raise RuntimeError("no activations recorded: run a forward pass inside the context first")
        return torch.stack([r.to("cpu", torch.float32) for r in self.recorded], dim=1)

    def hook(self, layer: int):
        heads, head_dim = self.backbone.num_heads, self.backbone.head_dim

        def pre_hook(module: torch.nn.Module, args: tuple) -> tuple | None:
            hidden = args[0]
            if self.positions is None:
                raise RuntimeError("HeadHooks.set_positions() must be called before the forward pass")
            batch = hidden.shape[0]
            positions = self._on("positions", layer, self.positions, hidden.device)
            rows = torch.arange(batch, device=hidden.device)
            last = hidden[rows, positions].view(batch, heads, head_dim)
            if self.record:
                self.recorded[layer] = last.detach()
            if self.steering is None or not self._layer_active[layer]:
                return None
            mask = self._on("mask", layer, self.steering.mask[..., layer, :], hidden.device)
            values = self._on("values", layer, self.steering.values[..., layer, :, :], hidden.device, hidden.dtype)
            if self._kept is not None:
                values = values + self._on("kept", layer, self._kept, hidden.device, hidden.dtype) * last
            replaced = torch.where(mask.unsqueeze(-1), values, last).reshape(batch, heads * head_dim)
            hidden = hidden.index_put((rows, positions), replaced)
            return (hidden, *args[1:])

        return pre_hook


@contextmanager
def head_hooks(backbone: Backbone, *, record: bool = False, steering: Steering | None = None) -> Iterator[HeadHooks]:
    """Install the per-head hooks on every layer for the duration of the block; they are removed on exit, also
    when the block raises."""
    if steering is not None:
        expected = (backbone.num_layers, backbone.num_heads, backbone.head_dim)
        if tuple(steering.values.shape[-3:]) != expected:
            raise ValueError(f"steering values have shape {tuple(steering.values.shape)}, backbone needs {expected}")
    state = HeadHooks(backbone, record, steering)
    handles = []
    try:
        for layer, module in enumerate(backbone.out_projs):
            handles.append(module.register_forward_pre_hook(state.hook(layer)))
        yield state
    finally:
        for handle in handles:
            handle.remove()
