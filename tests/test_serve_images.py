"""activation_rm.serve.images: image references in requests (paths under --image-root, data URIs, URLs only with
--allow-network), their limits, and errors that name the item and the image; through the server and directly."""

from __future__ import annotations

import base64
import functools
import http.server
import threading

import pytest
from tiny import needs_server_extra

needs_server_extra("fastapi", "httpx")

import torch  # noqa: E402
from serve_support import (  # noqa: E402
    VISION_PROMPTS,
    VISION_RESPONSES,
    data_uri,
    image_app,
    local_client,
)
from tiny_vision import make_image  # noqa: E402

from activation_rm.serve.app import create_app  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402
from activation_rm.serve.images import (  # noqa: E402
    ImagePolicy,
    RequestImageError,
    describe,
    load_image_ref,
    load_request_images,
)

TOL = dict(rtol=1e-5, atol=1e-6)
PROMPTS, RESPONSES = VISION_PROMPTS, VISION_RESPONSES
make_app = image_app
pytest_plugins = ["integrations_support"]  # the image_models and image_dir fixtures


def test_references_load_as_the_images_they_name(image_dir):
    policy = ImagePolicy(root=str(image_dir))
    want = make_image(40, 60, 1)
    for ref in ("a.png", str(image_dir / "a.png"), data_uri(want), data_uri(want)[:40] + "\n" + data_uri(want)[40:]):
        got = load_image_ref(ref, policy)
        assert got.mode == "RGB" and got.size == (60, 40) and got.tobytes() == want.tobytes()
    assert load_request_images([None, [], ["sub/b.png", "c.png"]], policy)[:2] == [(), ()]
    pair = load_request_images([["sub/b.png", "c.png"]], policy)[0]
    assert [im.size for im in pair] == [(30, 70), (30, 30)]


def test_a_bad_reference_names_its_item_and_position(image_dir):
    policy = ImagePolicy(root=str(image_dir), max_per_item=2)
    with pytest.raises(RequestImageError) as caught:
        load_request_images([["a.png"], ["c.png", "../secret.png"]], policy)
    assert (caught.value.item, caught.value.index) == (1, 1)
    assert str(caught.value) == caught.value.message == ("images[1][1]: image '../secret.png': the path is outside "
                                                         "the server's --image-root")
    with pytest.raises(RequestImageError, match=r"^images\[0\]: 3 images; the limit is 2 per item$"):
        load_request_images([["a.png"] * 3], policy)
    uri = data_uri(make_image(30, 30, 3))
    assert describe(uri) == f"data:image/png;base64,... ({len(uri)} characters)"
    assert describe("a.png") == "'a.png'" and describe("x" * 200) == repr("x" * 117 + "...")


def test_the_policy_checks_its_limits_and_shows_only_the_roots_name(image_dir):
    assert ImagePolicy(root=str(image_dir)).public()["image_root"] == image_dir.name
    assert ImagePolicy().public() == {"image_root": None, "allow_network": False, "max_image_bytes": 32 * 1024 * 1024,
                                      "max_image_pixels": 36_000_000, "max_images_per_item": 16}
    for field in ("max_bytes", "max_pixels", "max_per_item"):
        with pytest.raises(ValueError, match=f"{field} must be positive"):
            ImagePolicy(**{field: 0})
    with pytest.raises(ValueError, match="not a directory"):
        ImagePolicy(root=str(image_dir / "a.png"))
    small = ImagePolicy(root=str(image_dir), max_bytes=len((image_dir / "a.png").read_bytes()) - 1)
    with pytest.raises(ValueError, match="larger than the limit"):
        load_image_ref("a.png", small)
    with pytest.raises(ValueError, match="non-empty string"):
        load_image_ref("  ", small)


def _bad_cases(image_dir):
    good = data_uri(make_image(30, 30, 3))
    return [
        (["../secret.png"], "outside"),
        ([str(image_dir.parent / "secret.png")], "outside"),
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


def test_bad_images_get_422_naming_item_and_image_and_serving_goes_on(image_models, image_dir):
    client = local_client(make_app(image_models, image_dir))
    for refs, reason in _bad_cases(image_dir):
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

    no_root = local_client(make_app(image_models))
    reply = no_root.post("/score", json={"prompts": ["q"], "responses": ["a"], "images": [["a.png"]]})
    assert reply.status_code == 422 and "--image-root" in reply.json()["error"]
    assert no_root.post("/score", json={"prompts": ["q"], "responses": ["a"],
                                        "images": [[data_uri(make_image(30, 30, 3))]]}).status_code == 200
    small = create_app(image_models, ServerConfig(images=ImagePolicy(max_pixels=500)))
    reply = local_client(small).post("/score", json={"prompts": ["q"], "responses": ["a"],
                                                     "images": [[data_uri(make_image(40, 60, 1))]]})
    assert reply.status_code == 422 and "60x40 pixels" in reply.json()["error"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_image_urls_only_with_allow_network(image_models, image_dir):
    """A loopback HTTP server stands in for the network."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(image_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        body = {"prompts": PROMPTS[:1], "responses": RESPONSES[:1], "images": [[f"{url}/a.png"]]}
        refused = local_client(make_app(image_models)).post("/score", json=body)
        assert refused.status_code == 422 and "--allow-network" in refused.json()["error"]
        client = local_client(make_app(image_models, allow_network=True))
        reply = client.post("/score", json=body)
        assert reply.status_code == 200, reply.text
        direct = image_models.models["faithful"].score(PROMPTS[:1], RESPONSES[:1], images=[make_image(40, 60, 1)])
        torch.testing.assert_close(torch.tensor(reply.json()["scores"]["faithful"]), torch.tensor(direct), **TOL)
        missing = client.post("/score", json={**body, "images": [[f"{url}/nope.png"]]})
        assert missing.status_code == 422 and "cannot fetch" in missing.json()["error"]
    finally:
        server.shutdown()
        server.server_close()
