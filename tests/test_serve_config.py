"""activation_rm.serve.config: the server's settings, its host check and the token from the environment."""

from __future__ import annotations

import pytest

from activation_rm.serve.batcher import BatchConfig
from activation_rm.serve.config import (
    LOOPBACK_NAMES,
    ServerConfig,
    host_name,
    is_loopback_host,
    token_from_env,
)


@pytest.mark.parametrize(("header", "name"), [("LocalHost:5000", "localhost"), ("[::1]:8080", "::1"), ("::1", "::1"),
                                              ("rm.internal.", "rm.internal"), (" 127.0.0.1:80 ", "127.0.0.1"),
                                              ("evil.example:http", "evil.example:http")])
def test_host_name_strips_port_brackets_and_dot(header, name):
    assert host_name(header) == name


def test_loopback_hosts():
    assert all(is_loopback_host(h) for h in (*LOOPBACK_NAMES, "app.localhost", "127.8.9.10:5000", "[::1]:1"))
    assert not any(is_loopback_host(h) for h in ("localhost.evil.example", "10.0.0.1", "0.0.0.0", "example.com", ""))


def test_only_loopback_and_allowed_hosts_are_answered():
    config = ServerConfig(allow_hosts=("RM.internal.", "rm.internal", "10.0.0.5"))
    assert config.allow_hosts == ("rm.internal", "10.0.0.5")  # normalised, without repeats
    assert [config.accepts_host(h) for h in ("localhost:5000", "rm.internal:80", "10.0.0.5", "evil.example", None,
                                             "")] == [True, True, True, False, False, False]
    assert ServerConfig(allow_hosts=("*",)).accepts_host("anything.example")


def test_limits_are_checked_and_info_shows_no_secret():
    for field in ("max_body_bytes", "max_items", "max_chars", "read_timeout_s"):
        with pytest.raises(ValueError, match=f"{field} must be positive"):
            ServerConfig(**{field: 0})
    with pytest.raises(ValueError, match="request_timeout_s must be positive"):
        ServerConfig(request_timeout_s=0)
    public = ServerConfig(token="s3cret", batching=BatchConfig(max_batch_size=8), allow_hosts=("rm.internal",),
                          request_timeout_s=None).public()
    assert "s3cret" not in repr(public) and public["auth"] is True
    assert public["hosts"] == [*LOOPBACK_NAMES, "rm.internal"] and public["request_timeout_s"] is None
    assert public["batching"] == {"enabled": True, "max_batch_size": 8, "max_wait_ms": 5.0, "micro_batch_tokens": None}
    assert ServerConfig().public()["auth"] is False


def test_token_from_the_flag_else_the_environment(monkeypatch):
    monkeypatch.setenv("ACTIVATION_RM_TOKEN", "from-env")
    assert token_from_env("flag") == "flag" and token_from_env(None) == "from-env" and token_from_env("") == "from-env"
    monkeypatch.setenv("ACTIVATION_RM_TOKEN", "")
    assert token_from_env(None) is None
    monkeypatch.delenv("ACTIVATION_RM_TOKEN")
    assert token_from_env(None) is None
