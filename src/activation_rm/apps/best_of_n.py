"""Best-of-N reranking: sample N completions per prompt from a policy and keep the one the Activation RM scores
highest.

Sampling is seeded per prompt (:func:`prompt_seed` of the run's seed and the input line number) and each prompt is
generated alone, so a prompt's samples do not depend on the chunk it falls in: a resumed run gives the same samples
and picks as an uninterrupted one (same machine, torch build and thread count). The global torch RNG is left as it
was. Jobs stream through :func:`~activation_rm.scoring.streaming.run_jsonl_job` (one output line per prompt, appended and
fsynced per chunk; a rerun continues after the last complete line), and :func:`check_job` refuses bad input before
any model loads. Each output line records the sampling settings, and the output's job record (:func:`job_of`)
makes a rerun with different settings refused instead of mixing two runs in one file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from activation_rm.inputs.checks import at_least, check_fields, positive
from activation_rm.inputs.data import InputProblem, Prompt
from activation_rm.inputs.flags import flag_values
from activation_rm.scoring.streaming import Job, check_input, check_output, prompt_field

if TYPE_CHECKING:
    import torch

#: output field holding the sampling settings of the run that wrote a line
SETTINGS_KEY = "best_of_n"


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled: ``n`` per prompt, nucleus sampling at ``temperature``, ``seed`` for the run."""

    n: int = field(default=8, metadata={"help": "completions sampled per prompt"})
    max_new_tokens: int = field(default=40, metadata={"help": "tokens per completion"})
    temperature: float = field(default=0.8, metadata={"help": "sampling temperature"})
    top_p: float = field(default=0.95, metadata={"help": "nucleus sampling mass"})
    seed: int = field(default=0, metadata={"help": "run seed; each prompt's seed is fixed by it and its line"})

    @classmethod
    def from_args(cls, args: Any) -> SamplingConfig:
        """From parsed command-line options of the same names (``add_flags(parser, SamplingConfig)``); options
        not given keep the defaults."""
        return cls(**flag_values(args, cls))

    def __post_init__(self) -> None:
        check_fields(self, [
            at_least("n", self.n, 1),
            at_least("max_new_tokens", self.max_new_tokens, 1),
            positive("temperature", self.temperature),
            ("top_p", 0 < self.top_p <= 1, f"must be in (0, 1], got {self.top_p}"),
        ])


def prompt_seed(seed: int, key: int) -> int:
    """The sampling seed of one prompt (``key``: its input line number): fixed by the run seed and the line alone."""
    return (seed * 1_000_003 + key * 7_919 + 17) % (2 ** 63 - 1)


def chat_messages(prompt: Prompt) -> list[dict[str, str]]:
    """A prompt as chat messages (a string becomes one user turn)."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


class Policy:
    """A causal LM that samples completions to chat prompts (its chat template if it has one, else the raw text)."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, name: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        if getattr(tokenizer, "pad_token_id", None) is None and getattr(tokenizer, "eos_token", None) is not None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def from_backbone(cls, backbone: Any) -> Policy:
        """The judge's own backbone as the policy (no second copy of the weights; steering hooks are only active
        while the judge scores, never during generation)."""
        return cls(backbone.model, backbone.tokenizer, backbone.name)

    @classmethod
    def load(cls, source: str, *, device: str = "auto", dtype: str | None = None,
             trust_remote_code: bool = False) -> Policy:
        """Any causal LM by Hugging Face id, local directory or ``.gguf`` file (not limited to the judge's
        supported families)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from activation_rm.model.backbone import resolve_dtype

        gguf = None
        path = source
        if source.endswith(".gguf"):
            if not Path(source).is_file():
                raise FileNotFoundError(f"GGUF file not found: {source}")
            path, gguf = str(Path(source).parent), Path(source).name
        target = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        torch_dtype = resolve_dtype(dtype, "cuda" if target.startswith("cuda") else "cpu")
        tokenizer = AutoTokenizer.from_pretrained(path, gguf_file=gguf, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(path, gguf_file=gguf, dtype=torch_dtype,
                                                     trust_remote_code=trust_remote_code)
        model = model.to(dtype=torch_dtype, device=target).eval()
        return cls(model, tokenizer, source)

    def prompt_ids(self, prompt: Prompt) -> torch.Tensor:
        """Token ids of the prompt as the policy reads it, ending with the assistant's turn."""
        if getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(chat_messages(prompt), add_generation_prompt=True,
                                                     return_tensors="pt", return_dict=True)["input_ids"]
        else:
            text = prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)
            ids = self.tokenizer(text, return_tensors="pt")["input_ids"]
        return ids.to(self.model.get_input_embeddings().weight.device)

    def sample(self, prompt: Prompt, config: SamplingConfig, seed: int) -> list[str]:
        """``config.n`` completions of one prompt, reproducible from ``seed`` (the global RNG is restored)."""
        import torch  # here, not at the top: the command line reads SamplingConfig without loading torch

        with torch.no_grad():
            return self._sample(prompt, config, seed)

    def _sample(self, prompt: Prompt, config: SamplingConfig, seed: int) -> list[str]:
        import torch

        ids = self.prompt_ids(prompt)
        devices = [ids.device] if ids.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                      temperature=config.temperature, top_p=config.top_p, top_k=0,
                                      max_new_tokens=config.max_new_tokens, num_return_sequences=config.n,
                                      pad_token_id=self.tokenizer.pad_token_id)
        return [self.tokenizer.decode(row[ids.shape[1]:], skip_special_tokens=True).strip() for row in out]

    def greedy(self, prompts: Sequence[Prompt], max_new_tokens: int, batch_size: int = 8) -> list[str]:
        """The greedy completion of each prompt (left-padded batches; for before/after evaluations)."""
        import torch

        with torch.no_grad():
            return self._greedy(prompts, max_new_tokens, batch_size)

    def _greedy(self, prompts: Sequence[Prompt], max_new_tokens: int, batch_size: int) -> list[str]:
        import torch

        out: list[str] = []
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(prompts), batch_size):
            rows = [self.prompt_ids(p)[0] for p in prompts[start:start + batch_size]]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long, device=rows[0].device)
            mask = torch.zeros_like(ids)
            for i, row in enumerate(rows):
                ids[i, width - len(row):] = row
                mask[i, width - len(row):] = 1
            gen = self.model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                      max_new_tokens=max_new_tokens, pad_token_id=pad, temperature=None,
                                      top_p=None, top_k=None)
            out += [self.tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in gen]
        return out


def pick(scores: Sequence[float]) -> int:
    """Index of the highest score (the first one on ties)."""
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


@dataclass(frozen=True)
class BestOfN:
    """One prompt's samples, their rewards, and the pick."""

    samples: list[str]
    scores: list[float]
    pick: int
    seed: int

    @property
    def response(self) -> str:
        return self.samples[self.pick]

    def to_dict(self) -> dict[str, Any]:
        return {"response": self.response, "score": self.scores[self.pick], "pick": self.pick,
                "samples": self.samples, "scores": self.scores, "seed": self.seed}


def best_of_n(rm: Any, policy: Policy, prompts: Sequence[Prompt], keys: Sequence[int],
              config: SamplingConfig) -> list[BestOfN]:
    """Sample ``config.n`` completions per prompt (seeded by its key), score them all with ``rm`` in one call
    (completions of one prompt share its KV cache), and pick the best of each prompt."""
    seeds = [prompt_seed(config.seed, key) for key in keys]
    samples = [policy.sample(prompt, config, seed) for prompt, seed in zip(prompts, seeds)]
    flat_prompts = [p for p, group in zip(prompts, samples) for _ in group]
    scores = rm.score(flat_prompts, [s for group in samples for s in group])
    out = []
    for i, (group, seed) in enumerate(zip(samples, seeds)):
        mine = scores[i * config.n:(i + 1) * config.n]
        out.append(BestOfN(group, mine, pick(mine), seed))
    return out


def prompt_line(path: Path, number: int, record: dict[str, Any]) -> tuple[int, Prompt]:
    """(line number, prompt) of a best-of-N input line; a missing or bad prompt is an error naming file and line."""
    return number, prompt_field(path, number, record)


def run_settings(config: SamplingConfig, policy: str, artifact: str, without_steering: bool) -> dict[str, Any]:
    """What a run's output lines record, and what a resumed run must match."""
    return {**asdict(config), "policy": policy, "artifact": str(artifact), "without_steering": without_steering}


def job_of(artifact: str | os.PathLike, settings: dict[str, Any]) -> Job:
    """What a best-of-N output answers (its job record): the artifact and the run's settings."""
    return Job("best-of-n", (artifact,), settings)


def check_job(artifact: str | os.PathLike, input_path: str | os.PathLike, output_path: str | os.PathLike,
              settings: dict[str, Any]) -> int:
    """Refuse a best-of-N job's bad input before any model loads: a pairwise or broken artifact, bad input lines
    (all in one message), an empty input, an output this tool did not write, or one written with other settings.
    Returns the number of input lines."""
    from activation_rm.scoring.artifacts import read_artifact_meta

    mode = read_artifact_meta(artifact)["mode"]
    if mode != "pointwise":
        raise InputProblem(f"best-of-n needs a pointwise artifact; {artifact} is {mode}")
    lines = check_input(input_path, prompt_line)
    check_output(output_path, input_path, job_of(artifact, settings))
    return lines
