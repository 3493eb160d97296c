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


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module, registered as ``<name>_benchmark`` (its dataclasses need a module)."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
