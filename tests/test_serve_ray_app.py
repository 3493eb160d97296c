"""activation_rm.serve.ray_app: Ray Serve with 2 replicas on a local Ray cluster (2 CPUs), loading the artifacts by
path in other processes (the tiny model saved to disk by the support module)."""

from __future__ import annotations

import time

import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pytest.importorskip("ray.serve", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")

import torch  # noqa: E402
from serve_support import PROMPTS, RESPONSES, free_port  # noqa: E402

from activation_rm.integrations.client import RewardClient, RewardServerError  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
pytest_plugins = ["integrations_support"]  # the ray cluster fixture


def test_ray_serve_two_replicas(ray_cluster):
    cluster = ray_cluster
    from ray import serve

    from activation_rm.serve.ray_app import serve_on_ray

    port = free_port()
    serve_on_ray(cluster.specs, ServerConfig(token="t"), {"device": "cpu", "dtype": "float32"}, host="127.0.0.1",
                 port=port, replicas=2, num_cpus=0.5, blocking=False)
    client = RewardClient(f"http://127.0.0.1:{port}", token="t", timeout=60)
    deadline = time.monotonic() + 60
    while True:
        try:
            info = client.info()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert [c["name"] for c in info["criteria"]] == ["short", "honest"]
    status = serve.status().applications["activation-rm"].deployments["ActivationRM"]
    assert sum(status.replica_states.values()) == 2
    for _ in range(4):  # several requests, spread over both replicas by the proxy
        scores = client.score(PROMPTS, RESPONSES)
        for name, rm in cluster.rms.items():
            torch.testing.assert_close(scores[name], rm.score(PROMPTS, RESPONSES))
    with pytest.raises(RewardServerError) as bad:
        client.score(["q", ""], ["a", "b"])
    assert bad.value.status == 422 and bad.value.item == 1
    with pytest.raises(RewardServerError) as unauthorized:
        RewardClient(f"http://127.0.0.1:{port}").score(["q"], ["a"])
    assert unauthorized.value.status == 401
    serve.delete("activation-rm")


def test_a_proxy_that_dies_at_start_up_is_started_again_after_the_old_serve_is_gone(monkeypatch):
    from activation_rm.serve import ray_app

    calls: list[str] = []

    def start(http_options):
        calls.append(f"start {http_options['port']}")
        if len(calls) < 5:
            raise ray.exceptions.ActorDiedError()
    monkeypatch.setattr(ray_app.serve, "start", start)
    monkeypatch.setattr(ray_app.serve, "shutdown", lambda: calls.append("shutdown"))
    monkeypatch.setattr(ray_app, "wait_for_serve_shutdown", lambda: calls.append("wait") or True)
    ray_app.start_proxy("127.0.0.1", 5123)
    assert calls == ["start 5123", "shutdown", "wait", "start 5123", "shutdown", "wait", "start 5123"]
    calls.clear()
    monkeypatch.setattr(ray_app.serve, "start", lambda http_options: (_ for _ in ()).throw(TimeoutError("60s")))
    with pytest.raises(TimeoutError):  # the last failure is the caller's
        ray_app.start_proxy("127.0.0.1", 5123)
    assert calls == ["shutdown", "wait", "shutdown", "wait"]


def test_waiting_for_serve_to_go_polls_the_controller_until_it_is_gone(monkeypatch):
    from activation_rm.serve import ray_app

    looked: list[tuple[str, str]] = []

    def get_actor(name, namespace):
        looked.append((name, namespace))
        if len(looked) < 3:
            return object()  # still there
        raise ValueError("no such actor")
    monkeypatch.setattr(ray, "get_actor", get_actor)
    assert ray_app.wait_for_serve_shutdown(timeout=5, poll=0)
    assert looked == [("SERVE_CONTROLLER_ACTOR", "serve")] * 3
    monkeypatch.setattr(ray, "get_actor", lambda name, namespace: object())
    assert not ray_app.wait_for_serve_shutdown(timeout=0.05, poll=0.01)


def test_the_controller_name_is_rays_own():
    from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

    from activation_rm.serve import ray_app

    assert (ray_app.SERVE_CONTROLLER, ray_app.SERVE_NAMESPACE) == (SERVE_CONTROLLER_NAME, SERVE_NAMESPACE)
