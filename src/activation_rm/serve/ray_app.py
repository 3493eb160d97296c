"""Ray Serve: the same FastAPI app in N replicas, each loading the backbone once with all its artifacts.

Ray Serve's proxy spreads requests over the replicas; inside each replica the dynamic batcher merges them again.
On a GPU cluster give each replica a GPU (``--replica-gpus 1``); the replicas are placed on any node of the
cluster, so every node needs the artifacts (and the backbone, or access to it) at the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ray import serve

from activation_rm.serve.config import ServerConfig

logger = logging.getLogger(__name__)

APP_NAME = "activation-rm"
#: where Ray Serve keeps its controller actor (ray.serve._private.constants, as of Ray 2.60)
SERVE_CONTROLLER = "SERVE_CONTROLLER_ACTOR"
SERVE_NAMESPACE = "serve"


def build_app(artifacts: Sequence[str], config: ServerConfig, backbone_kwargs: dict[str, Any] | None = None, *,
              replicas: int = 1, num_cpus: float = 1.0, num_gpus: float = 0.0, fuse_criteria: bool = True):
    """A bound Ray Serve application (pass it to ``serve.run``)."""
    # Enough concurrent requests per replica for the batcher to fill a batch.
    max_ongoing = max(8, 2 * config.batching.max_batch_size)

    @serve.deployment(name="ActivationRM", num_replicas=replicas, max_ongoing_requests=max_ongoing,
                      ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus})
    @serve.ingress()
    class ActivationRMDeployment:
        def __init__(self, artifacts: list[str], config: ServerConfig, backbone_kwargs: dict[str, Any],
                     fuse_criteria: bool) -> None:
            from activation_rm.scoring.engine import load_model_set

            self.models = load_model_set(artifacts, **backbone_kwargs)
            self.models.fuse_criteria = fuse_criteria
            self.config = config

        def __serve_build_asgi_app__(self):
            from activation_rm.serve.app import create_app

            return create_app(self.models, self.config)

    return ActivationRMDeployment.bind(list(artifacts), config, dict(backbone_kwargs or {}), fuse_criteria)


def serve_on_ray(artifacts: Sequence[str], config: ServerConfig, backbone_kwargs: dict[str, Any] | None = None, *,
                 host: str = "127.0.0.1", port: int = 5000, replicas: int = 1, num_cpus: float = 1.0,
                 num_gpus: float = 0.0, address: str | None = None, blocking: bool = True,
                 fuse_criteria: bool = True) -> None:
    """Start (or join) a Ray cluster, start Serve's HTTP proxy on ``host:port`` and deploy the replicas."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address)
    start_proxy(host, port)
    app = build_app(artifacts, config, backbone_kwargs, replicas=replicas, num_cpus=num_cpus, num_gpus=num_gpus,
                    fuse_criteria=fuse_criteria)
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=blocking)


def start_proxy(host: str, port: int, attempts: int = 3) -> None:
    """``serve.start`` on ``host:port``, again (up to ``attempts`` times) after a clean shutdown when Serve's HTTP
    proxy actor dies or misses Ray's fixed 60 s start-up limit (seen on an overloaded machine, where a new worker
    process is slow). Each retry waits until the previous Serve controller is gone: a shutdown still in flight
    kills the next proxy before it runs."""
    import ray

    for attempt in range(1, attempts + 1):
        try:
            serve.start(http_options={"host": host, "port": port})
            return
        except (TimeoutError, ray.exceptions.RayActorError) as err:
            if attempt == attempts:
                raise
            logger.warning("Ray Serve's HTTP proxy did not start (%s); shutting Serve down and starting it again",
                           type(err).__name__)
            serve.shutdown()
            wait_for_serve_shutdown()


def wait_for_serve_shutdown(timeout: float = 60.0, poll: float = 0.5) -> bool:
    """Wait until no Serve controller actor is alive (True), or ``timeout`` seconds (False)."""
    import time

    import ray

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ray.get_actor(SERVE_CONTROLLER, namespace=SERVE_NAMESPACE)
        except ValueError:  # no such actor: the controller (and with it the proxies) is gone
            return True
        time.sleep(poll)
    return False
