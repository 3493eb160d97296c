"""Server settings: limits that keep one client from starving or crashing the server, auth, and batching."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .batcher import BatchConfig
from .images import ImagePolicy

TOKEN_ENV = "ACTIVATION_RM_TOKEN"


@dataclass(frozen=True)
class ServerConfig:
    """``token``: require ``Authorization: Bearer <token>`` on every endpoint but ``/health``.

    ``reward_criteria`` picks the criteria whose mean is the reward of ``/get_reward`` and the adapters (default:
    all served pointwise criteria). ``strip_tokens`` adds marker strings to remove when splitting OpenRLHF queries.
    ``images`` says which image sources requests may use (``--image-root``, ``--allow-network``).
    """

    token: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_items: int = 512
    max_chars: int = 65536
    batching: BatchConfig = field(default_factory=BatchConfig)
    reward_criteria: tuple[str, ...] = ()
    strip_tokens: tuple[str, ...] = ()
    images: ImagePolicy = field(default_factory=ImagePolicy)

    def __post_init__(self) -> None:
        for key in ("max_body_bytes", "max_items", "max_chars"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be positive, got {getattr(self, key)}")

    def public(self) -> dict:
        """What ``/info`` may show (never the token)."""
        return {"auth": self.token is not None, "max_body_bytes": self.max_body_bytes, "max_items": self.max_items,
                "max_chars": self.max_chars, "reward_criteria": list(self.reward_criteria),
                "batching": {"enabled": self.batching.enabled, "max_batch_size": self.batching.max_batch_size,
                             "max_wait_ms": self.batching.max_wait_ms},
                "images": self.images.public()}


def token_from_env(flag_value: str | None) -> str | None:
    """The ``--token`` flag, else ``$ACTIVATION_RM_TOKEN``, else no auth."""
    value = flag_value if flag_value else os.environ.get(TOKEN_ENV)
    return value or None
