"""GRPO with TRL, an Activation RM as the reward: train the embedded SmolLM2-135M-Instruct on CPU in minutes.

The reward is :class:`activation_rm.integrations.trl.ActivationRMReward` in ``GRPOTrainer(reward_funcs=...)``
(TRL 1.16.0's interface: ``reward_func(prompts=..., completions=..., completion_ids=..., **dataset_columns,
trainer_state=..., log_extra=..., log_metric=...)``, one float or None per completion). With several ARMs (``--arm
NAME=PATH`` more than once, ``--weights``) they share one frozen judge backbone and are scored in one fused pass;
each criterion's score goes to TRL's ``log_metric`` as ``arm/<name>`` (and ``log_extra`` columns). A second reward
function, ``verifiable``, applies the task set's programmatic check with **weight 0**: it moves no advantage, but TRL
logs it per step as ``rewards/verifiable/mean`` next to ``rewards/arm/mean``, which gives the reward-hacking curves
for free. The policy is a second, trainable copy of the judge's model (LoRA through peft when installed, else a
full fine-tune); the judge is never updated.

    python examples/grpo_trl.py --arm results/alignment/arms/short_correct \
        --train benchmarks/data/alignment/short_correct_train.jsonl --steps 30 --out /tmp/grpo

Every logging step is appended to ``OUT/train_log.jsonl`` as it happens (fsynced). ``benchmarks/alignment.py``
runs this with before/after measurement on the held-out prompts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "data" / "alignment"))
from checks import check  # noqa: E402

from activation_rm.integrations.trl import ActivationRMReward, completion_text  # noqa: E402


def load_records(paths: Sequence[str | os.PathLike]) -> list[dict[str, Any]]:
    """Task records (``{id, criterion, prompt, ...check fields}``) of every file, in order; a bad line is an error
    naming its file and line, before any model loads."""
    from activation_rm.apps.best_of_n import prompt_line
    from activation_rm.scoring.streaming import check_input

    records = []
    for path in paths:
        check_input(path, prompt_line)
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                record = json.loads(line)
                if "criterion" not in record:
                    raise ValueError(f"{path}:{number}: a training record needs 'criterion' (its check)")
                records.append(record)
    return records


def make_dataset(records: Sequence[dict[str, Any]]):
    """A conversational prompt column and the record as JSON (the check's input; TRL passes it to rewards)."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}],
                               "record": json.dumps(r, ensure_ascii=False)} for r in records])


def verifiable(prompts: Sequence[Any], completions: Sequence[Any], record: Sequence[str],
               **kwargs: Any) -> list[float]:
    """The task set's programmatic check (0/1) of each completion: logged by TRL, given weight 0."""
    return [float(check(json.loads(r), completion_text(c))["metric"]) for r, c in zip(record, completions)]


def load_judge(arms: Sequence[str], weights: Sequence[float] | None, device: str = "cpu") -> ActivationRMReward:
    """The ARM reward: every artifact on one frozen backbone, weighted (the weights' order follows ``arms``)."""
    from activation_rm.scoring.engine import ModelSet, parse_artifact_spec

    specs = [parse_artifact_spec(a) for a in arms]
    models = ModelSet.from_artifacts(specs, device=device)
    named = dict(zip(models.names, weights)) if weights else None
    return ActivationRMReward(models, weights=named, name="arm")


def load_policy(model: str | None, device: str = "cpu"):
    """A trainable copy of the policy model (default: the embedded SmolLM2-135M-Instruct) and its tokenizer."""
    from activation_rm.model.backbone import load_backbone

    backbone = load_backbone(model, device=device, dtype="float32")
    policy = backbone.model
    if getattr(policy, "hf_quantizer", None) is not None and all(p.is_floating_point() for p in policy.parameters()):
        # a GGUF file is dequantised to float32 on load, but transformers still marks the model as quantised and
        # refuses to train it; the tensors are plain floats, so drop the marker
        policy.hf_quantizer = None
        policy.is_quantized = False
        if hasattr(policy.config, "quantization_config"):
            del policy.config.quantization_config
    policy.requires_grad_(True)
    return policy, backbone.tokenizer


@dataclass
class GRPOSettings:
    """The knobs that make GRPO fit a CPU: 2 prompts x 4 generations per step, 40-token completions."""

    steps: int = 30
    batch_size: int = 8
    num_generations: int = 4
    max_completion_length: int = 40
    learning_rate: float = 2e-4
    temperature: float = 0.8
    top_p: float = 0.95
    beta: float = 0.0
    lora: bool = True
    lora_rank: int = 16
    #: TRL's default (True) recomputes activations in the backward pass; False is faster where memory allows
    activation_checkpointing: bool = True
    seed: int = 0


def grpo_config(settings: GRPOSettings, output_dir: str, n_rewards: int):
    """TRL's GRPOConfig for a short CPU run (arguments checked against trl 1.16.0's grpo_config.py); nothing is
    saved to ``output_dir`` (``save_strategy="no"``)."""
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=output_dir, max_steps=settings.steps, per_device_train_batch_size=settings.batch_size,
        num_generations=settings.num_generations, max_completion_length=settings.max_completion_length,
        learning_rate=settings.learning_rate, temperature=settings.temperature, top_p=settings.top_p,
        beta=settings.beta, reward_weights=[1.0] + [0.0] * (n_rewards - 1), logging_steps=1, report_to=[],
        save_strategy="no", use_cpu=True, bf16=False, fp16=False, seed=settings.seed, data_seed=settings.seed,
        dataloader_num_workers=0, disable_tqdm=True, log_completions=False,
        activation_checkpointing=settings.activation_checkpointing,
    )


def lora_config(rank: int):
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


def peft_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("peft") is not None


class JsonlLog:
    """A TRL/transformers callback that appends every log record to a JSONL file as it happens (fsynced), so a
    killed run keeps its curves."""

    def __init__(self, path: Path) -> None:
        from transformers import TrainerCallback

        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        outer = self

        class _Callback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
                if logs and "train_runtime" not in logs:
                    outer.write({"step": state.global_step, "time": round(time.time(), 1), **logs})

        self.callback = _Callback()

    def write(self, row: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def train(policy: Any, tokenizer: Any, judge: ActivationRMReward, records: Sequence[dict[str, Any]],
          settings: GRPOSettings, out: Path) -> tuple[Any, list[dict[str, Any]]]:
    """Run GRPO; returns the trained model (a peft model with LoRA) and the per-step log."""
    from trl import GRPOTrainer

    log = JsonlLog(out / "train_log.jsonl")
    rewards = [judge, verifiable]
    use_lora = settings.lora and peft_available()
    if settings.lora and not use_lora:
        print("peft is not installed: full fine-tune instead of LoRA", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="grpo-") as scratch:
        trainer = GRPOTrainer(model=policy, reward_funcs=rewards, args=grpo_config(settings, scratch, len(rewards)),
                              train_dataset=make_dataset(records), processing_class=tokenizer,
                              callbacks=[log.callback],
                              peft_config=lora_config(settings.lora_rank) if use_lora else None)
        trainer.train()
    rows = [json.loads(line) for line in log.path.read_text(encoding="utf-8").splitlines()]
    return trainer.model, rows


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`GRPOSettings` field (``--lora-rank``, ``--no-lora`` ...), defaulting to its value;
    ``settings_from`` reads them back (benchmarks/alignment.py uses both)."""
    for name, value in vars(GRPOSettings()).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arm", action="append", required=True, help="ARM artifact, PATH or NAME=PATH (repeatable)")
    parser.add_argument("--weights", type=float, nargs="+", help="one weight per --arm (default: equal)")
    parser.add_argument("--train", nargs="+", required=True, help="training prompt files (task records)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--policy", help="policy model (default: the embedded SmolLM2-135M-Instruct)")
    add_settings_arguments(parser)
    parser.add_argument("--threads", type=int, default=1)
    return parser


def settings_from(args: argparse.Namespace) -> GRPOSettings:
    return GRPOSettings(**{k: getattr(args, k) for k in vars(GRPOSettings())})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.weights and len(args.weights) != len(args.arm):
        raise SystemExit(f"error: {len(args.weights)} weights for {len(args.arm)} --arm artifacts")
    records = load_records(args.train)  # bad lines fail before any model loads
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    judge = load_judge(args.arm, args.weights)
    policy, tokenizer = load_policy(args.policy)
    _, rows = train(policy, tokenizer, judge, records, settings_from(args), Path(args.out))
    steps = [r for r in rows if "rewards/arm/mean" in r]
    print(f"{len(steps)} steps in {time.perf_counter() - started:.0f} s; ARM reward first/last step "
          f"{steps[0]['rewards/arm/mean']:.3f}/{steps[-1]['rewards/arm/mean']:.3f}, verifiable "
          f"{steps[0]['rewards/verifiable/mean']:.3f}/{steps[-1]['rewards/verifiable/mean']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
