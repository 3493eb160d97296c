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


# ------------------------------------------------------------------------------- serving with images
#: judge inputs for the vision server tests: items with one and two images, a text-only item, and a long one
VISION_PROMPTS = ["Describe the image.", "Compare the two images.", "What is two plus two?", "Describe it."]
VISION_RESPONSES = ["A red square.", "Both are noise.", "Four.", "The quick brown fox jumps over the lazy dog. " * 2]


@functools.cache
def vision_models():
    """Three reward models on one tiny Qwen2-VL (seeded random means: the serving path is under test, not the
    judge): pointwise ``faithful`` and ``short``, pairwise ``prefer``."""
    from tiny import random_rm
    from tiny_vision import tiny_vision_backbone

    from activation_rm.scoring.engine import ModelSet

    backbone = tiny_vision_backbone("qwen2_vl")
    return ModelSet({"faithful": random_rm(backbone, "The caption mentions only what is in the image.", 1,
                                           density=0.4),
                     "short": random_rm(backbone, "The caption is short.", 2, density=0.4),
                     "prefer": random_rm(backbone, "The better caption.", 3, density=0.4, mode="pairwise")})


def image_root(base: Path) -> Path:
    """An image root under ``base`` with three PNGs (one in a sub-folder), a text file, a truncated PNG, and outside
    it a 'secret' image and a symbolic link to it from inside."""
    from tiny_vision import make_image

    images = base / "images"
    (images / "sub").mkdir(parents=True)
    make_image(40, 60, 1).save(images / "a.png")
    make_image(70, 30, 2).save(images / "sub" / "b.png")
    make_image(30, 30, 3).save(images / "c.png")
    (images / "notes.txt").write_text("not an image", encoding="utf-8")
    (images / "truncated.png").write_bytes((images / "a.png").read_bytes()[:60])
    make_image(20, 20, 9).save(base / "secret.png")
    (images / "link.png").symlink_to(base / "secret.png")
    return images


def data_uri(image, fmt: str = "PNG") -> str:
    import base64
    import io

    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def vision_request(root: Path):
    """Image references for :data:`VISION_PROMPTS` (paths relative, in a sub-folder and absolute under ``root``, a
    data URI, a text-only item) and the same images as PIL images."""
    from tiny_vision import make_image

    refs = [["a.png"], ["sub/b.png", data_uri(make_image(30, 30, 3))], None, [str(root / "c.png")]]
    pil = [(make_image(40, 60, 1),), (make_image(70, 30, 2), make_image(30, 30, 3)), None, (make_image(30, 30, 3),)]
    return refs, pil


def image_app(models, root=None, allow_network: bool = False, **config):
    """The app with an image policy (``root``: the ``--image-root``)."""
    from activation_rm.serve.app import create_app
    from activation_rm.serve.config import ServerConfig
    from activation_rm.serve.images import ImagePolicy

    return create_app(models, ServerConfig(images=ImagePolicy(root=str(root) if root else None,
                                                              allow_network=allow_network), **config))
