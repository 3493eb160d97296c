"""activation_rm.serve.cli: the serve command's flags and checks (port, host, token, timeouts, the image policy),
the server it builds and what it hands uvicorn, without serving."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from tiny import needs_server_extra

needs_server_extra("fastapi", "httpx")

from serve_support import free_port, local_client  # noqa: E402

from activation_rm.apps.cli import build_parser, main  # noqa: E402
from activation_rm.serve.cli import auth_warning, build_server, port_number, server_config  # noqa: E402

pytest_plugins = ["integrations_support"]  # the setup fixture (the tiny served artifacts)


def test_serve_command_builds_and_runs_the_app(setup, monkeypatch):
    args = build_parser().parse_args(["serve", *setup.specs, "--max-items", "3", "--device", "cpu",
                                      "--dtype", "float32", "--token", "t"])
    app = build_server(args)
    client = local_client(app)
    headers = {"Authorization": "Bearer t"}
    assert [c["name"] for c in client.get("/info", headers=headers).json()["criteria"]] == ["short", "honest"]
    assert client.post("/score", json={"prompts": ["a"] * 4, "responses": ["x"] * 4}, headers=headers).status_code == 413

    seen = serve_without_serving(monkeypatch)
    monkeypatch.setenv("ACTIVATION_RM_TOKEN", "from-env")
    port = free_port()
    assert main(["serve", setup.paths["short"], "--port", str(port), "--device", "cpu", "--dtype", "float32"]) == 0
    config = seen["config"]
    assert config.host == "127.0.0.1" and config.port == port and seen["bound"] == ("127.0.0.1", port)
    assert config.limit_concurrency == 1024 and config.timeout_keep_alive == 5
    assert config.app.state.config.batching.micro_batch_tokens == 2048  # the CPU default
    assert config.app.state.config.token == "from-env"
    assert config.app.state.models.names == ["short"]


def serve_without_serving(monkeypatch) -> dict:
    """Make ``uvicorn.Server.run`` record its settings and the socket it was handed instead of serving."""
    import uvicorn

    seen: dict = {}

    def run(server, sockets=None):
        seen.update(config=server.config, bound=sockets[0].getsockname()[:2])

    monkeypatch.setattr(uvicorn.Server, "run", run)
    return seen


def test_serve_port_must_be_a_port_number(setup, capsys):
    for port in ("99999", "0", "http"):
        with pytest.raises(SystemExit) as exit_:
            main(["serve", setup.paths["short"], "--port", port])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "argument --port:" in err and "is not a port number (1-65535)" in err and "Traceback" not in err


def test_serve_port_in_use_is_an_error_before_the_model_loads(setup, monkeypatch, capsys):
    from activation_rm.serve import cli as serve_cli

    monkeypatch.setattr(serve_cli, "load_models", lambda args: pytest.fail("the model loaded"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", setup.paths["short"], "--port", str(port)]) == 2
    assert capsys.readouterr().err.strip() == (f"error: cannot listen on 127.0.0.1:{port}: the port is already in "
                                               "use (choose another with --port)")


def test_serve_warns_once_without_a_token(setup, monkeypatch, capsys):
    serve_without_serving(monkeypatch)
    monkeypatch.delenv("ACTIVATION_RM_TOKEN", raising=False)
    common = ["--device", "cpu", "--dtype", "float32", "--port", str(free_port())]
    assert main(["serve", setup.paths["short"], *common]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line.lower()]
    assert warnings == ["warning: no token: every program and user on this machine can use the server; set --token "
                        "or $ACTIVATION_RM_TOKEN"]
    assert main(["serve", setup.paths["short"], *common, "--token", "t"]) == 0
    assert "warning" not in capsys.readouterr().err.lower()


def test_serve_options_reach_the_server(setup, monkeypatch):
    seen = serve_without_serving(monkeypatch)
    port = free_port()
    assert main(["serve", setup.paths["short"], "--device", "cpu", "--dtype", "float32", "--port", str(port),
                 "--allow-host", "rm.internal", "--request-timeout", "0", "--read-timeout", "7",
                 "--limit-concurrency", "9", "--micro-batch-tokens", "512", "--token", "t"]) == 0
    config = seen["config"].app.state.config
    assert config.allow_hosts == ("rm.internal",) and config.request_timeout_s is None
    assert config.read_timeout_s == 7 and config.batching.micro_batch_tokens == 512
    assert seen["config"].limit_concurrency == 9
    for bad in (["--request-timeout", "-1"], ["--read-timeout", "0"], ["--micro-batch-tokens", "0"]):
        with pytest.raises(SystemExit):
            main(["serve", setup.paths["short"], *bad])



def test_port_numbers_and_the_auth_warning():
    import argparse

    assert port_number("8080") == 8080 and port_number("65535") == 65535
    for bad in ("0", "65536", "-1", "http"):
        with pytest.raises(argparse.ArgumentTypeError, match="not a port number"):
            port_number(bad)
    assert auth_warning("127.0.0.1", None) is not None and auth_warning("127.0.0.1", "t") is None
    assert "every program and user on this machine" in auth_warning("127.0.0.1", None)


def test_serve_flags_set_the_image_policy(tmp_path):
    args = build_parser().parse_args(["serve", "x", "--image-root", str(tmp_path), "--allow-network", "--max-images",
                                      "3"])
    policy = server_config(args).images
    assert (policy.root, policy.allow_network, policy.max_per_item) == (str(tmp_path), True, 3)
    defaults = server_config(build_parser().parse_args(["serve", "x"])).images
    assert defaults.root is None and defaults.allow_network is False
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(ValueError, match="not a directory"):
        replace(policy, root=str(tmp_path / "a.png"))


def test_a_pairwise_artifact_is_served_for_compare_only(setup, tmp_path):
    from activation_rm import ActivationRM

    short = setup.rms["short"]
    pairwise = ActivationRM(setup.backbone, replace(short.template, mode="pairwise"), short.means, short.mask)
    pairwise.save(tmp_path / "pairwise")
    args = build_parser().parse_args(["serve", str(tmp_path / "pairwise"), "--device", "cpu", "--dtype", "float32"])
    assert build_server(args).state.models.models["pairwise"].mode == "pairwise"
    assert main(["serve", str(tmp_path / "pairwise"), "--reward-criteria", "pairwise", "--device", "cpu",
                 "--dtype", "float32", "--port", str(free_port())]) == 2
    assert main(["serve", str(tmp_path / "pairwise"), "--image-root", str(tmp_path / "missing"), "--device", "cpu",
                 "--dtype", "float32"]) == 2
