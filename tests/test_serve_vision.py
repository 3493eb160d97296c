"""The reward server with images, on a tiny random Qwen2-VL backbone and generated images: batched scores equal
direct ``rm.score(..., images=...)``, bad images get a 422 naming the item and the image, and local paths never
leave ``--image-root``."""

from __future__ import annotations

import asyncio
import base64
import functools
import http.server
import io
import threading
from dataclasses import replace

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
httpx = pytest.importorskip("httpx", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")

import torch  # noqa: E402
from serve_support import LOCAL_URL, local_client  # noqa: E402
from tiny_vision import make_image, tiny_vision_backbone  # noqa: E402

from activation_rm.apps.cli import build_parser  # noqa: E402
from activation_rm.judge.templates import JudgeTemplate  # noqa: E402
from activation_rm.scoring.engine import ModelSet  # noqa: E402
from activation_rm.scoring.reward_model import ActivationRM  # noqa: E402
from activation_rm.serve.app import create_app  # noqa: E402
from activation_rm.serve.batcher import BatchConfig  # noqa: E402
from activation_rm.serve.cli import server_config  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402
from activation_rm.serve.images import ImagePolicy  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads on a shared CPU (see tests/test_vision.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _rm(backbone, criterion: str, seed: int, mode: str = "pointwise") -> ActivationRM:
    """A reward model with seeded random means in a few heads: the serving path is under test, not the judge."""
    gen = torch.Generator().manual_seed(seed)
    shape = (backbone.num_layers, backbone.num_heads)
    mask = torch.rand(shape, generator=gen) < 0.4
    means = torch.randn(*shape, backbone.head_dim, generator=gen)
    return ActivationRM(backbone, JudgeTemplate(criterion=criterion, mode=mode), means, mask)


@pytest.fixture(scope="module")
def models():
    backbone = tiny_vision_backbone("qwen2_vl")
    return ModelSet({"faithful": _rm(backbone, "The caption mentions only what is in the image.", 1),
                     "short": _rm(backbone, "The caption is short.", 2),
                     "prefer": _rm(backbone, "The better caption.", 3, mode="pairwise")})


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """An image root with three PNGs (one in a sub-folder), a text file, a truncated PNG, and outside it a
    'secret' image and a symbolic link to it from inside."""
    base = tmp_path_factory.mktemp("serve-vision")
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
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def make_app(models, root=None, allow_network=False, **config):
    return create_app(models, ServerConfig(images=ImagePolicy(root=str(root) if root else None,
                                                              allow_network=allow_network), **config))


PROMPTS = ["Describe the image.", "Compare the two images.", "What is two plus two?", "Describe it."]
RESPONSES = ["A red square.", "Both are noise.", "Four.", "The quick brown fox jumps over the lazy dog. " * 2]


def _request(root):
    """Paths (relative, in a sub-folder, absolute under the root), a data URI and a text-only item."""
    refs = [["a.png"], ["sub/b.png", data_uri(make_image(30, 30, 3))], None, [str(root / "c.png")]]
    pil = [(make_image(40, 60, 1),), (make_image(70, 30, 2), make_image(30, 30, 3)), None, (make_image(30, 30, 3),)]
    return refs, pil


def test_score_with_images_equals_direct_scoring(models, root):
    refs, pil = _request(root)
    client = local_client(make_app(models, root))
    reply = client.post("/score", json={"prompts": PROMPTS, "responses": RESPONSES, "images": refs})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["criteria"] == ["faithful", "short"]
    for name in body["criteria"]:
        direct = models.models[name].score(PROMPTS, RESPONSES, images=pil)
        torch.testing.assert_close(torch.tensor(body["scores"][name]), torch.tensor(direct), **TOL)
    text_only = models.models["short"].score(PROMPTS[2:3], RESPONSES[2:3])
    torch.testing.assert_close(body["scores"]["short"][2], text_only[0], **TOL)
    blind = models.models["faithful"].score(PROMPTS[:1], RESPONSES[:1])  # the images do reach the model
    assert abs(body["scores"]["faithful"][0] - blind[0]) > 1e-5
    info = client.get("/info").json()
    assert info["backbone"]["multimodal"] is True and info["server"]["images"]["image_root"] == root.name


def test_fused_criteria_with_images_one_pass_equal_separate(models, root):
    _, pil = _request(root)
    pointwise = {name: models.models[name] for name in ("faithful", "short")}
    fused, separate = ModelSet(pointwise), ModelSet(pointwise, fuse_criteria=False)
    calls = []
    hook = models.backbone.model.register_forward_hook(lambda *_: calls.append(1))
    try:
        got = fused.score(PROMPTS, RESPONSES, images=pil)
        fused_passes = len(calls)
        want = separate.score(PROMPTS, RESPONSES, images=pil)
    finally:
        hook.remove()
    assert fused_passes == 1 and len(calls) - fused_passes == 2
    for name in pointwise:
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(want[name]), **TOL)


async def _concurrent(app, calls):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in calls))


def test_dynamic_batches_with_images_are_exact(models, root):
    refs, pil = _request(root)
    app = make_app(models, root, batching=BatchConfig(max_batch_size=32, max_wait_ms=300))
    calls = []
    for i in range(6):
        j = i % len(PROMPTS)
        body = {"prompts": [PROMPTS[j]], "responses": [RESPONSES[j] + "!" * i], "images": [refs[j]]}
        if i % 3 == 0:
            body["criteria"] = ["short"]
        calls.append(("/score", body))
    calls.append(("/compare", {"prompts": PROMPTS[:2], "responses_a": RESPONSES[:2], "responses_b": ["No.", "Yes."],
                               "images": refs[:2]}))
    replies = asyncio.run(_concurrent(app, calls))
    assert app.state.batcher.stats.batches < len(calls)
    for (path, body), reply in zip(calls, replies):
        assert reply.status_code == 200, reply.text
        index = PROMPTS.index(body["prompts"][0])
        if path == "/score":
            for name, got in reply.json()["scores"].items():
                alone = models.models[name].score(body["prompts"], body["responses"], images=[pil[index]])
                torch.testing.assert_close(torch.tensor(got), torch.tensor(alone), **TOL)
            continue
        for name, got in reply.json()["comparisons"].items():
            direct = models.models[name].compare(body["prompts"], body["responses_a"], body["responses_b"],
                                                 images=pil[:2])
            torch.testing.assert_close(torch.tensor(got["score_a"]), torch.tensor([c.score_a for c in direct]), **TOL)
            torch.testing.assert_close(torch.tensor(got["score_b"]), torch.tensor([c.score_b for c in direct]), **TOL)
            assert got["preferred"] == [c.preferred for c in direct]


def _bad_cases(root):
    good = data_uri(make_image(30, 30, 3))
    return [
        (["../secret.png"], "outside"),
        ([str(root.parent / "secret.png")], "outside"),
        (["link.png"], "outside"),  # a symbolic link inside the root that points out of it
        (["missing.png"], "not found"),
        (["notes.txt"], "not a readable image"),
        (["truncated.png"], "not a readable image"),
        ([good, "data:image/png;base64,@@@not base64@@@"], "invalid base64"),
        (["data:text/plain;base64,aGVsbG8="], "data:image/png;base64"),
        (["data:image/png;base64," + base64.b64encode(b"hello, not a png").decode()], "not a readable image"),
        (["http://127.0.0.1:9/x.png"], "--allow-network"),
        (["file:///etc/passwd"], "unsupported image reference"),
        (["a.png"] * 17, "the limit is 16"),
    ]


def test_bad_images_get_422_naming_item_and_image_and_serving_goes_on(models, root):
    client = local_client(make_app(models, root))
    for refs, reason in _bad_cases(root):
        body = {"prompts": PROMPTS[:2], "responses": RESPONSES[:2], "images": [["a.png"], refs]}
        reply = client.post("/score", json=body)
        assert reply.status_code == 422, (refs[-1][:80], reply.text)
        detail = reply.json()
        assert detail["item"] == 1 and detail["field"] == "images", detail
        assert reason in detail["error"] and detail["error"].startswith("images[1]"), detail
        if len(refs) <= 2:  # the image is named by its position and (shortened) reference
            assert detail["error"].startswith(f"images[1][{len(refs) - 1}]: image "), detail
            assert len(detail["error"]) < 400
    compare = client.post("/compare", json={"prompts": ["q"], "responses_a": ["a"], "responses_b": ["b"],
                                            "images": [["../secret.png"]]})
    assert compare.status_code == 422 and compare.json()["item"] == 0 and "outside" in compare.json()["error"]
    for images, field_item in (([["a.png"]], None), ([["a.png"], [3]], 1), ("a.png", None)):
        reply = client.post("/score", json={"prompts": PROMPTS[:2], "responses": RESPONSES[:2], "images": images})
        assert reply.status_code == 422 and reply.json()["item"] == field_item, reply.text
    ok = client.post("/score", json={"prompts": PROMPTS[:1], "responses": RESPONSES[:1], "images": [["a.png"]]})
    assert ok.status_code == 200

    no_root = local_client(make_app(models))
    reply = no_root.post("/score", json={"prompts": ["q"], "responses": ["a"], "images": [["a.png"]]})
    assert reply.status_code == 422 and "--image-root" in reply.json()["error"]
    assert no_root.post("/score", json={"prompts": ["q"], "responses": ["a"],
                                        "images": [[data_uri(make_image(30, 30, 3))]]}).status_code == 200
    small = create_app(models, ServerConfig(images=ImagePolicy(max_pixels=500)))
    reply = local_client(small).post("/score", json={"prompts": ["q"], "responses": ["a"],
                                                     "images": [[data_uri(make_image(40, 60, 1))]]})
    assert reply.status_code == 422 and "60x40 pixels" in reply.json()["error"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_image_urls_only_with_allow_network(models, root):
    """A loopback HTTP server stands in for the network."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        body = {"prompts": PROMPTS[:1], "responses": RESPONSES[:1], "images": [[f"{url}/a.png"]]}
        refused = local_client(make_app(models)).post("/score", json=body)
        assert refused.status_code == 422 and "--allow-network" in refused.json()["error"]
        client = local_client(make_app(models, allow_network=True))
        reply = client.post("/score", json=body)
        assert reply.status_code == 200, reply.text
        direct = models.models["faithful"].score(PROMPTS[:1], RESPONSES[:1], images=[make_image(40, 60, 1)])
        torch.testing.assert_close(torch.tensor(reply.json()["scores"]["faithful"]), torch.tensor(direct), **TOL)
        missing = client.post("/score", json={**body, "images": [[f"{url}/nope.png"]]})
        assert missing.status_code == 422 and "cannot fetch" in missing.json()["error"]
    finally:
        server.shutdown()
        server.server_close()


def test_serve_flags_set_the_image_policy(root):
    args = build_parser().parse_args(["serve", "x", "--image-root", str(root), "--allow-network", "--max-images",
                                      "3"])
    policy = server_config(args).images
    assert (policy.root, policy.allow_network, policy.max_per_item) == (str(root), True, 3)
    defaults = server_config(build_parser().parse_args(["serve", "x"])).images
    assert defaults.root is None and defaults.allow_network is False
    with pytest.raises(ValueError, match="not a directory"):
        replace(policy, root=str(root / "a.png"))


def test_trl_rewards_pass_images_locally_and_to_the_server(models):
    """TRL hands images to reward functions as an ``images``/``image`` column or inside conversational prompts; the
    in-process reward and the remote one (PIL images sent as data URIs over real HTTP) score them like the models."""
    from serve_support import UvicornThread

    from activation_rm.integrations.trl import ActivationRMReward, RemoteActivationRMReward, example_images

    images = [make_image(40, 60, 1), make_image(70, 30, 2)]
    prompts, completions = PROMPTS[:2], RESPONSES[:2]
    want = models.score(prompts, completions, images=[(im,) for im in images])
    mean = [(a + b) / 2 for a, b in zip(want["faithful"], want["short"])]
    local = ActivationRMReward(models)
    torch.testing.assert_close(local(prompts=prompts, completions=completions, images=[[im] for im in images]), mean,
                               **TOL)
    torch.testing.assert_close(local(prompts=prompts, completions=completions, image=images), mean, **TOL)
    chat = [[{"role": "user", "content": [{"type": "image", "image": im}, {"type": "text", "text": p}]}]
            for im, p in zip(images, prompts)]
    assert example_images(chat, {}) == [(images[0],), (images[1],)]
    torch.testing.assert_close(local(prompts=chat, completions=completions), mean, **TOL)
    blind = local(prompts=prompts, completions=completions)
    assert max(abs(a - b) for a, b in zip(blind, mean)) > 1e-5

    with UvicornThread(create_app(models)) as server:
        remote = RemoteActivationRMReward(server.url, chunk_size=1)
        got = asyncio.run(remote(prompts=prompts, completions=completions, image=images))
    torch.testing.assert_close(got, mean, **TOL)
