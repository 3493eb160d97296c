"""Fixtures the adapter tests share (no tests here): the tiny served artifacts, a ModelSet on them, a real uvicorn
server, and the reward the adapters must reproduce. A test module takes the fixtures with
``pytest_plugins = ["integrations_support"]`` (importing them by name would shadow them).

PYTEST_DONT_REWRITE (no asserts here; the test modules import ``mean_of`` before pytest loads this as a plugin)
"""

from __future__ import annotations

import pytest
from serve_support import UvicornThread, image_root, served, vision_models

from activation_rm.scoring.engine import ModelSet


@pytest.fixture(scope="module")
def setup():
    return served()


@pytest.fixture(scope="module")
def models(setup):
    return ModelSet.from_artifacts(setup.specs, backbone=setup.backbone)


@pytest.fixture(scope="module")
def server(models):
    pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
    pytest.importorskip("uvicorn", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
    from activation_rm.serve.app import create_app

    with UvicornThread(create_app(models)) as running:
        yield running


def mean_of(setup, prompts, responses, names=("short", "honest")) -> list[float]:
    """The reward every adapter gives: the mean over the criteria of each artifact's own score."""
    scores = [setup.rms[n].score(prompts, responses) for n in names]
    return [sum(col) / len(col) for col in zip(*scores)]


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster of 2 CPUs for the module, started after the artifacts are fitted (so the fit does not
    compete with Ray's processes); yields the :func:`served` set-up. Ray Serve is shut down with it."""
    ray = pytest.importorskip("ray", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
    setup = served()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield setup
    try:
        from ray import serve

        serve.shutdown()
    finally:
        ray.shutdown()


def load_reward_func_file():
    """activation_rm/integrations/openrlhf_reward_func.py as OpenRLHF imports it: by path, under the module name
    ``reward_func``, with no package context."""
    import importlib.util

    from activation_rm.integrations import openrlhf_reward_func

    spec = importlib.util.spec_from_file_location("reward_func", openrlhf_reward_func.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def image_models():
    """serve_support.vision_models(): reward models on a tiny Qwen2-VL."""
    return vision_models()


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """serve_support.image_root(): an --image-root with good, broken and escaping images."""
    return image_root(tmp_path_factory.mktemp("images"))
