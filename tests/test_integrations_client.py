"""What the adapters share: the reward server's client against ModelSet and direct scoring. Each adapter has its own
test file: test_integrations_trl.py, test_integrations_verl.py, test_integrations_openrlhf.py."""

from __future__ import annotations

import torch
from serve_support import PROMPTS, RESPONSES

from activation_rm.integrations.client import RewardClient

pytest_plugins = ["integrations_support"]  # the setup, models and server fixtures


def test_client_and_model_set_compare(server, models, setup):
    a, b = RESPONSES[:2], RESPONSES[2:]
    remote = RewardClient(server.url).compare(PROMPTS[:2], a, b, criteria=["short"])
    local = models.compare(PROMPTS[:2], a, b)
    direct = setup.rms["short"].compare(PROMPTS[:2], a, b)
    assert list(remote) == ["short"] and list(local) == ["short", "honest"]
    for got in (remote["short"], local["short"].to_dict()):
        assert got["preferred"] == [c.preferred for c in direct]
        torch.testing.assert_close(got["score_a"], [c.score_a for c in direct])
        torch.testing.assert_close(got["score_b"], [c.score_b for c in direct])
