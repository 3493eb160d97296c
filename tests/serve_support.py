"""Shared set-up for the serving, integration and Ray tests (no tests here): a tiny random model saved to disk,
so artifacts fitted on it load by name in other processes too, and two small artifacts fitted on it."""

from __future__ import annotations

import atexit
import functools
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from tiny import save_tiny_model

from activation_rm import ActivationRM
from activation_rm.model.backbone import Backbone, load_backbone

EXAMPLES = [
    {"prompt": "What is two plus two?", "response": "Four.", "label": "yes"},
    {"prompt": "What is two plus two?", "response": "The quick brown fox jumps over the lazy dog.", "label": "no"},
    {"prompt": "The capital of France is?", "response": "Paris.", "label": "yes"},
    {"prompt": "The capital of France is?", "response": "Water boils at 100 degrees, 0 1 2 3 4 5.", "label": "no"},
] * 2

PROMPTS = ["What is two plus two?", "The capital of France is?", "What is two plus two?",
           [{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is two plus two?"}]]
RESPONSES = ["Four.", "Paris, the capital of France.", "The quick brown fox jumps over the lazy dog. " * 3, "4"]
#: prompts that do not repeat (so nothing is shared between responses to one prompt)
DISTINCT = ["What is two plus two?", "The capital of France is?", "Name a prime number.",
            [{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is three plus one?"}]]


@dataclass
class Served:
    root: Path
    model_dir: Path
    backbone: Backbone
    paths: dict[str, str]  # criterion name -> artifact directory
    rms: dict[str, ActivationRM]

    @property
    def specs(self) -> list[str]:
        return [f"{name}={path}" for name, path in self.paths.items()]


@functools.cache
def served() -> Served:
    """Fit once per test session: ``short`` (fitted, 3 steps) and ``honest`` (same means, other heads)."""
    root = Path(tempfile.mkdtemp(prefix="arm-serve-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    model_dir = root / "tiny-llama"
    save_tiny_model(model_dir)
    backbone = load_backbone(str(model_dir), device="cpu", dtype="float32")
    # criterion first: the two criteria's queries then differ from the chat header on, which the pass counts of
    # the fused-criteria tests assume (with the default compact layout they share the prompt and response too)
    short = ActivationRM.fit(backbone, EXAMPLES, criterion="the answer is correct and short", steps=3,
                             n_contexts=4, progress=False, layout="criterion_first")
    mask = torch.zeros_like(short.mask)
    mask[0, 1] = mask[2, 0] = True
    honest = ActivationRM(backbone, replace(short.template, criterion="the answer is honest"), short.means, mask,
                          seed=1)
    rms = {"short": short, "honest": honest}
    paths = {name: str(rm.save(root / name)) for name, rm in rms.items()}
    return Served(root, model_dir, backbone, paths, rms)


#: where the in-process test clients say they send requests: a loopback name, which the server answers by default
LOCAL_URL = "http://localhost"


def local_client(app, **kwargs):
    """A TestClient that sends ``Host: localhost`` (TestClient's own ``testserver`` is refused by the host check)."""
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=LOCAL_URL, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class UvicornThread:
    """A real uvicorn server on 127.0.0.1 in a background thread (for HTTP-level tests); ``settings`` go to
    ``uvicorn.Config``."""

    def __init__(self, app, **settings) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    **settings))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
