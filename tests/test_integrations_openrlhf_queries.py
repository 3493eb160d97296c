"""activation_rm.integrations.openrlhf_queries: splitting an OpenRLHF query (prompt + response decoded with special tokens) back
into the prompt's chat turns and the response."""

from __future__ import annotations

import pytest

from activation_rm.integrations.openrlhf_queries import prompt_turns, split_query
from activation_rm.judge.templates import special_token_strings

pytest_plugins = ["integrations_support"]  # the setup fixture (its tiny tokenizer has ChatML markers)

LLAMA3 = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<pad>")


def test_split_query_chatml_and_llama3(setup):
    markers = special_token_strings(setup.backbone.tokenizer)
    assert "<|im_start|>" in markers and "<pad>" in markers
    chatml = "<|im_start|>system\nBe short.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    prompt, response = split_query("<pad>" + chatml + "Four.<|im_end|><pad><pad>", chatml, markers)
    assert response == "Four."
    assert prompt == [{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is 2+2?"}]
    llama3 = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert split_query(llama3 + "Hello!<|eot_id|>", llama3, LLAMA3) == ("Hi there", "Hello!")
    assert split_query("Q: 2+2? A: 4", "Q: 2+2?", ()) == ("Q: 2+2?", "A: 4")
    assert prompt_turns("user: literal text", LLAMA3) == "user: literal text"
    with pytest.raises(ValueError, match="does not contain its prompt"):
        split_query("something else", "Q: 2+2?", ())
    with pytest.raises(ValueError, match="empty"):
        split_query("<pad>x", "<pad>", ("<pad>",))
