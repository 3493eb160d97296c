"""Tiny random-weight backbones and a tiny trained tokenizer, built in the tests (no downloads)."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from activation_rm.model.backbone import Backbone

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "You are a careful judge. Criterion: the answer is correct and short.",
    "Does the response meet the criterion? Answer Yes or No. Yes No yes no",
    "Which response better meets the criterion? Answer A or B. A B",
    "[User prompt] [Response] [Response A] [Response B] User: Assistant: system user assistant",
    "What is two plus two? Four. The capital of France is Paris. Water boils at 100 degrees.",
    "the quick brown fox jumps over the lazy dog 0 1 2 3 4 5 6 7 8 9 , . ? ! : ; ( ) [ ] ... truncated",
]


@functools.cache
def _tokenizer_json(chat: bool) -> str:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<pad>", "<s>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 5, trainer)
    return tok.to_str()


def tiny_tokenizer(chat: bool = True) -> PreTrainedTokenizerFast:
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(_tokenizer_json(chat)),
                                        unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="<|im_end|>")
    if chat:
        tokenizer.chat_template = CHATML
    return tokenizer


VOCAB = 400


def tiny_model(family: str, seed: int = 0) -> torch.nn.Module:
    """A 2-3 layer random model of the given family; Gemma gets head_dim != hidden/heads, Qwen2 gets GQA."""
    import transformers as tf

    torch.manual_seed(seed)
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                  max_position_embeddings=512)
    if family == "llama":
        model = tf.LlamaForCausalLM(tf.LlamaConfig(**common, num_key_value_heads=4))
    elif family == "qwen2":
        model = tf.Qwen2ForCausalLM(tf.Qwen2Config(**common, num_key_value_heads=2))
    elif family == "gemma":
        model = tf.GemmaForCausalLM(tf.GemmaConfig(**common, num_key_value_heads=1, head_dim=24))
    elif family == "gpt2":
        model = tf.GPT2LMHeadModel(tf.GPT2Config(vocab_size=VOCAB, n_embd=64, n_layer=3, n_head=4, n_positions=512,
                                                 bos_token_id=2, eos_token_id=4))
    elif family == "gpt_neox":
        model = tf.GPTNeoXForCausalLM(tf.GPTNeoXConfig(**common))
    elif family == "mistral":
        model = tf.MistralForCausalLM(tf.MistralConfig(**common, num_key_value_heads=2))
    elif family == "qwen3":
        model = tf.Qwen3ForCausalLM(tf.Qwen3Config(**common, num_key_value_heads=2, head_dim=20))
    elif family == "phi3":
        model = tf.Phi3ForCausalLM(tf.Phi3Config(**common, num_key_value_heads=2, pad_token_id=1))
    elif family == "gemma2":
        model = tf.Gemma2ForCausalLM(tf.Gemma2Config(**common, num_key_value_heads=2, head_dim=24))
    else:
        raise ValueError(family)
    return model.eval()


def tiny_backbone(family: str = "llama", seed: int = 0, chat: bool = True) -> Backbone:
    return Backbone.from_model(tiny_model(family, seed), tiny_tokenizer(chat), name=f"tiny-{family}-{seed}")


def save_tiny_model(path, family: str = "llama"):
    """A tiny random model and the tiny tokenizer saved as a local model directory (what a user's ``--model``
    path is); returns ``path``."""
    tiny_model(family).save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path


ROOT = Path(__file__).resolve().parents[1]
#: few-shot pairs for command-line fits on tiny models: a short correct sum beats a longer wrong one
ARITHMETIC_PAIRS = [{"prompt": f"What is {i} plus {i}?", "chosen": f"{2 * i}.",
                     "rejected": f"It is {2 * i + 1}, because addition works that way."} for i in range(6)]
#: ``fit`` options that keep a command-line fit on a tiny model to about a second
FAST_FIT = ["--steps", "4", "--n-contexts", "4", "--n-shots", "2", "--masks-per-step", "4", "--quiet"]


def write_jsonl(path, records) -> Path:
    path = Path(path)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def fit_artifact(model_dir, out, criterion: str = "correct", examples=ARITHMETIC_PAIRS) -> Path:
    """``activation-rm fit`` of ``examples`` (written beside ``out`` as ``out.jsonl``) on a saved tiny model."""
    from activation_rm.apps.cli import main

    source = write_jsonl(Path(out).with_suffix(".jsonl"), examples)
    assert main(["fit", str(source), "--criterion", criterion, "--out", str(out), "--model", str(model_dir),
                 *FAST_FIT]) == 0
    return Path(out)


def benchmark_fixture(name: str):
    """A module-scoped fixture giving ``benchmarks/<name>.py`` (:func:`load_benchmark`); assign it in a test module."""
    import pytest

    @pytest.fixture(scope="module")
    def benchmark() -> ModuleType:
        return load_benchmark(name)

    return benchmark


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module, registered as ``<name>_benchmark`` (its dataclasses need a module)."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def tiny_model_dir(tmp_path_factory, name: str) -> tuple[Path, Path]:
    """A fresh folder ``name`` and, inside it, the tiny model saved as ``model``: (folder, model directory)."""
    root = tmp_path_factory.mktemp(name)
    return root, save_tiny_model(root / "model")


SERVER_EXTRA = "the [server] extra is not installed: pip install 'activation-rm[server]'"


def needs_server_extra(*modules: str) -> None:
    """Skip the calling test module unless the ``[server]`` extra's modules import (default: all three)."""
    import pytest

    for module in modules or ("fastapi", "uvicorn", "httpx"):
        pytest.importorskip(module, reason=SERVER_EXTRA)


#: three judge inputs, two of them with the same prompt (for the shared-prompt and multi-criterion paths)
QA_PROMPTS = ["What is two plus two?", "The capital of France?", "What is two plus two?"]
QA_RESPONSES = ["Four.", "Paris is the capital of France.", "It is 5, the quick brown fox."]


def random_rm(backbone: Backbone, criterion: str = "c", seed: int = 0, template=None, *, density: float = 0.3,
              mode: str = "pointwise"):
    """An Activation RM with seeded random means in a random ``density`` share of the heads: for tests of the paths
    that score with it (not of the judge's quality)."""
    from activation_rm.judge.templates import JudgeTemplate
    from activation_rm.scoring.reward_model import ActivationRM

    gen = torch.Generator().manual_seed(seed)
    mask = torch.rand(backbone.num_layers, backbone.num_heads, generator=gen) < density
    means = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=gen)
    return ActivationRM(backbone, template or JudgeTemplate(criterion=criterion, mode=mode), means, mask)


def hand_steered(model: torch.nn.Module, seq, heads: int, head_dim: int, mask=None, values=None, *,
                 projections=None, pixels=None, additive: bool = False):
    """The steered forward written out by hand, independently of the library: ``seq`` alone and unpadded through
    the plain model (with ``pixels``, the processor's image inputs, on a vision-language model), with a pre-hook on
    each layer's output projection (``projections``; default: the ``self_attn.o_proj`` of ``model.model.layers``)
    that records that layer's input at the last token and overwrites the heads in ``mask`` (layers, heads) with
    ``values`` (layers, heads, head_dim), or with ``additive`` adds them to what is there. Returns (logits at the
    last token, the projection inputs there before replacement, the same after)."""
    before, after = {}, {}

    def make_hook(layer):
        def hook(module, args):
            x = args[0].clone()
            last = x.shape[1] - 1
            before[layer] = torch.stack([x[0, last, h * head_dim:(h + 1) * head_dim].clone() for h in range(heads)])
            if mask is not None:
                for h in range(heads):
                    if mask[layer, h]:
                        own = x[0, last, h * head_dim:(h + 1) * head_dim].clone() if additive else 0
                        x[0, last, h * head_dim:(h + 1) * head_dim] = values[layer, h] + own
            after[layer] = torch.stack([x[0, last, h * head_dim:(h + 1) * head_dim].clone() for h in range(heads)])
            return (x, *args[1:])
        return hook

    if projections is None:
        projections = [layer.self_attn.o_proj for layer in model.model.layers]
    handles = [proj.register_forward_pre_hook(make_hook(i)) for i, proj in enumerate(projections)]
    inputs = {"input_ids": torch.tensor([list(seq)])}
    if pixels:
        inputs.update(attention_mask=torch.ones(1, len(seq), dtype=torch.long), **pixels)
    try:
        with torch.no_grad():
            logits = model(**inputs).logits[0, -1]
    finally:
        for handle in handles:
            handle.remove()
    layers = len(handles)
    return logits, torch.stack([before[i] for i in range(layers)]), torch.stack([after[i] for i in range(layers)])


def hand_scores(rm, prompts, responses, images=None) -> list[float]:
    """``rm.score`` computed by hand: each query alone through :func:`hand_steered` with the reward model's mask and
    means (and the item's images, ``images[i]``), then P(Yes) = softmax over the (Yes, No) logits."""
    from activation_rm.judge.templates import JudgeItem

    backbone = rm.backbone
    yes, no = rm.encoder.verdict_ids
    out = []
    for i, (prompt, response) in enumerate(zip(prompts, responses)):
        entry = None if images is None else images[i]
        pictures = () if entry is None else tuple(entry) if isinstance(entry, (list, tuple)) else (entry,)
        query = rm.encoder.encode(JudgeItem(prompt, (response,), pictures))
        logits, _, _ = hand_steered(backbone.model, query.ids, backbone.num_heads, backbone.head_dim, rm.mask,
                                    rm.means, projections=backbone.out_projs, pixels=query.pixels,
                                    additive=rm.additive)
        out.append(float(torch.softmax(logits[[yes, no]].double(), -1)[0]))
    return out


def greedy_reference(backbone: Backbone, ids, max_new_tokens: int) -> str:
    """Greedy verdict text written out plainly: a full forward pass over everything so far for each new token (no
    cache), stopping at an end token, once the first word is complete, or after ``max_new_tokens``."""
    import re

    tokenizer = backbone.tokenizer
    stop_ids = {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}
    new: list[int] = []
    for _ in range(max_new_tokens):
        with torch.no_grad():
            logits = backbone.model(input_ids=torch.tensor([list(ids) + new])).logits[0, -1]
        token = int(torch.argmax(logits.float()))
        if token in stop_ids:
            break
        new.append(token)
        if re.search(r"[A-Za-z0-9]+[^A-Za-z0-9]", tokenizer.decode(new, skip_special_tokens=True)):
            break
    return tokenizer.decode(new, skip_special_tokens=True)


def plant_failure(monkeypatch, rm, response: str = "BOOM") -> None:
    """Make every scoring pass of ``rm`` that holds the response ``response`` raise ValueError("cannot judge this").
    Planted in the query encoder, which the fused and the one-criterion paths both use."""
    encode_many = rm.encoder.encode_many

    def fragile(items):
        if any(response in item.responses for item in items):
            raise ValueError("cannot judge this")
        return encode_many(items)

    monkeypatch.setattr(rm.encoder, "encode_many", fragile)
