"""Server settings: limits that keep one client from starving or crashing the server, auth, host check and
batching."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from activation_rm.serve.batcher import BatchConfig
from activation_rm.serve.images import ImagePolicy

TOKEN_ENV = "ACTIVATION_RM_TOKEN"


#: Host names every server answers to: loopback names cannot be pointed at another machine by DNS rebinding
#: (browsers resolve ``localhost`` and ``*.localhost`` to loopback themselves), and loopback addresses
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def host_name(header: str) -> str:
    """The host of a ``Host`` header, lower-cased, without port, IPv6 brackets or a trailing dot."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    name, colon, port = value.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        value = name
    return value.rstrip(".")


def is_loopback_host(name: str) -> bool:
    """``localhost``, a ``*.localhost`` name, or a loopback address (127.0.0.0/8, ::1)."""
    name = host_name(name)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """``token``: require ``Authorization: Bearer <token>`` on every endpoint but ``/health`` (checked before a
    body is read). ``allow_hosts``: ``Host`` names answered besides loopback ones (``"*"``: any), against DNS
    rebinding, where a web page on a name the attacker controls re-points the name to 127.0.0.1.

    ``request_timeout_s`` bounds a request's wait for its scores (queue and model; None: no bound);
    ``read_timeout_s`` bounds the arrival of its whole body, so a stalled upload cannot hold a connection.
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
    allow_hosts: tuple[str, ...] = ()
    request_timeout_s: float | None = 300.0
    read_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        for key in ("max_body_bytes", "max_items", "max_chars", "read_timeout_s"):
            if getattr(self, key) <= 0:
                raise ValueError(f"{key} must be positive, got {getattr(self, key)}")
        if self.request_timeout_s is not None and self.request_timeout_s <= 0:
            raise ValueError(f"request_timeout_s must be positive (or None), got {self.request_timeout_s}")
        object.__setattr__(self, "allow_hosts", tuple(dict.fromkeys(host_name(h) for h in self.allow_hosts)))

    def accepts_host(self, header: str | None) -> bool:
        """Whether a request with this ``Host`` header is answered (one without is not)."""
        if not header:
            return False
        return "*" in self.allow_hosts or is_loopback_host(header) or host_name(header) in self.allow_hosts

    def public(self) -> dict:
        """What ``/info`` may show (never the token, never a path of the server's)."""
        return {"auth": self.token is not None, "max_body_bytes": self.max_body_bytes, "max_items": self.max_items,
                "max_chars": self.max_chars, "reward_criteria": list(self.reward_criteria),
                "hosts": [*LOOPBACK_NAMES, *self.allow_hosts], "request_timeout_s": self.request_timeout_s,
                "read_timeout_s": self.read_timeout_s,
                "batching": {"enabled": self.batching.enabled, "max_batch_size": self.batching.max_batch_size,
                             "max_wait_ms": self.batching.max_wait_ms,
                             "micro_batch_tokens": self.batching.micro_batch_tokens},
                "images": self.images.public()}


def token_from_env(flag_value: str | None) -> str | None:
    """The ``--token`` flag, else ``$ACTIVATION_RM_TOKEN``, else no auth."""
    value = flag_value if flag_value else os.environ.get(TOKEN_ENV)
    return value or None
