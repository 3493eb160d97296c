"""The ``activation-rm`` command line: fit, score, compare, inspect, demo and serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from activation_rm.fit.config import FINAL_RULES, LOSSES
from activation_rm.inputs.checks import ConfigError, FieldProblem, at_least, check_fields
from activation_rm.inputs.data import InputProblem
from activation_rm.judge.templates import DEMO_STYLES, LAYOUTS

T = TypeVar("T")


def _add_backbone_args(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument("--model", default=None,
                        help="Hugging Face id, local directory or .gguf file (default: the embedded SmolLM2-135M-Instruct"
                             "; for score/compare/inspect: the backbone the artifact was fitted on)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:0 ... (default: auto)")
    parser.add_argument("--dtype", default=None, help="float32, bfloat16 or float16 (default: bf16 where fast)")
    parser.add_argument("--trust-remote-code", action="store_true", help="allow the model repo's own code to run")


# ------------------------------------------------------------------------------------- checks before slow work
class OptionError(InputProblem):
    """Every problem with a command's options, paths and input files, found before any model loads."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(self.problems[0])
        else:
            super().__init__(f"{len(self.problems)} problems; nothing was loaded or written:\n"
                             + "\n".join(f"  {problem}" for problem in self.problems))


@dataclass
class Preflight:
    """Collects a command's problems so that one message reports them all, before the model loads."""

    problems: list[str] = field(default_factory=list)

    def add(self, problem: str | None) -> None:
        if problem:
            self.problems.append(problem)

    def options(self, problems: Iterable[FieldProblem]) -> None:
        self.problems.extend(problem.as_option() for problem in problems)

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``check(*args, **kwargs)``, or None with its user-facing error recorded (a bug still raises)."""
        try:
            return check(*args, **kwargs)
        except ConfigError as err:
            self.options(err.problems)
        except (InputProblem, FileNotFoundError, FileExistsError, IsADirectoryError) as err:
            self.problems.append(str(err))
        return None

    def finish(self) -> None:
        if self.problems:
            raise OptionError(self.problems)


def _at_least(pre: Preflight, args: argparse.Namespace, name: str, low: int) -> None:
    """An integer option of the command itself (not of a configuration object), e.g. ``--chunk-size``."""
    pre.run(check_fields, "activation-rm", [at_least(name, getattr(args, name), low)])


def _backbone_problems(pre: Preflight, args: argparse.Namespace, model: str | None, check_model: bool = True) -> None:
    """--device and --dtype, and the model unless the command loads the artifact's own (``check_model=False``)."""
    from activation_rm.model.backbone import check_load_options

    problems = check_load_options(model, args.device, args.dtype)
    pre.options(p for p in problems if check_model or p.field != "model")


def _artifact_backbone_problem(artifact: str, meta: dict[str, Any]) -> str | None:
    """Whether the backbone an artifact names (used when no --model is given) can be found."""
    from activation_rm.model.backbone import EMBEDDED_NAME, model_problem

    name = meta.get("backbone", {}).get("name")
    problem = model_problem(None if name == EMBEDDED_NAME else name)
    return problem and f"artifact {artifact} was fitted on backbone {name!r}, which is not here ({problem}); " \
                       "pass --model with that model"


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _cannot_create(option: str, path: Path) -> str | None:
    """Why ``path`` (not there yet) could not be created: an ancestor that is a file, or a folder we may not write."""
    ancestor = _nearest_existing(path)
    if not ancestor.is_dir():
        return f"{option} {path}: {ancestor} is a file, not a folder"
    return _cannot_write_in(option, path, ancestor)


def _cannot_write_in(option: str, path: Path, folder: Path) -> str | None:
    """Probe with a temporary file: permissions, read-only mounts and ACLs all show up, also for root."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        return f"{option} {path}: cannot write in {folder} ({err.strerror})"
    return None


def output_file_problem(option: str, output: str | Path) -> str | None:
    """Why the output JSONL cannot be appended to (a directory is streaming.check_output's to report)."""
    path = Path(output)
    if path.is_dir():
        return None
    if not path.exists():
        return _cannot_create(option, path)
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        return f"{option} {path}: cannot write to it ({err.strerror})"
    return None


def artifact_dir_problem(option: str, out: str | Path, overwrite: bool) -> str | None:
    """Why an artifact cannot be saved to ``out``: a file there, an artifact there without ``--overwrite``, or a
    folder we may not write; checked before the fit so a bad path never costs one."""
    from activation_rm.scoring.artifacts import META_FILE, TENSORS_FILE

    path = Path(out)
    if not path.exists():
        return _cannot_create(option, path)
    if not path.is_dir():
        return f"{option} {path} is a file; give an artifact directory"
    if not overwrite and ((path / META_FILE).exists() or (path / TENSORS_FILE).exists()):
        return f"{option} {path} already holds an artifact; pass --overwrite to replace it, or give a new directory"
    return _cannot_write_in(option, path, path)


# ------------------------------------------------------------------------------------------------- loading
def _backbone(args: argparse.Namespace):
    from activation_rm.model.backbone import load_backbone

    with _loading(args.model):
        return load_backbone(args.model, device=args.device, dtype=args.dtype,
                             trust_remote_code=args.trust_remote_code)


@contextmanager
def _loading(model: str | None) -> Iterator[None]:
    """A model that cannot be fetched or read (a Hugging Face id that does not exist, no network) is a user error."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as err:
        raise InputProblem(f"could not load the model {model or '(the artifact backbone)'}: {err}") from None


def _load_rm(args: argparse.Namespace):
    from activation_rm.scoring.reward_model import ActivationRM

    backbone = _backbone(args) if args.model else None
    kwargs = {} if backbone else {"device": args.device, "dtype": args.dtype,
                                  "trust_remote_code": args.trust_remote_code}
    with _loading(args.model):
        return ActivationRM.load(args.artifact, backbone=backbone, **kwargs)


def _criterion(args: argparse.Namespace) -> str:
    """The criterion from --criterion or --criterion-file (neither, both, or a missing, non-UTF-8 or blank file is
    an error; blank --criterion text is the template's to report)."""
    if args.criterion is not None and args.criterion_file:
        raise InputProblem("give the criterion with --criterion or --criterion-file, not both")
    if args.criterion_file:
        return _criterion_file(Path(args.criterion_file))
    if args.criterion is None:
        raise InputProblem("give the criterion with --criterion TEXT or --criterion-file PATH")
    return args.criterion


def _criterion_file(path: Path) -> str:
    if not path.is_file():
        raise InputProblem(f"--criterion-file {path}: " + ("is a directory" if path.is_dir() else "file not found"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputProblem(f"--criterion-file {path}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset "
                           f"{err.start})") from None
    if not text.strip():
        raise InputProblem(f"--criterion-file {path}: the file is empty or blank")
    return text.strip()


# -------------------------------------------------------------------------------------------- scoring jobs
def _job(args: argparse.Namespace, artifacts: Sequence[str]) -> Any:
    """What a scoring command's output answers (streaming.Job): its artifacts and the options that change scores,
    so a rerun with others is refused instead of mixing two jobs in one file."""
    from activation_rm.scoring.streaming import Job

    return Job(args.command, tuple(artifacts), {"without_steering": getattr(args, "without_steering", False),
                                                "dtype": args.dtype})


def _check_job(pre: Preflight, args: argparse.Namespace, artifacts: Sequence[str],
               pairs: bool | None = None) -> dict[str, str]:
    """A scoring job's problems before any model loads: the artifacts' metadata and mode mix, the backbone they
    will load, every input line (all problems in one message), an empty input, --chunk-size, and an output file
    this tool did not write or cannot write. Returns each readable artifact's mode."""
    from activation_rm.scoring.artifacts import read_artifact_meta
    from activation_rm.scoring.streaming import (
        check_input,
        check_output,
        pair_fields,
        pointwise_fields,
        with_images,
    )

    metas = {path: pre.run(read_artifact_meta, path) for path in artifacts}
    modes = {path: meta["mode"] for path, meta in metas.items() if meta}
    if len(set(modes.values())) > 1:
        pre.add("these artifacts mix pointwise and pairwise modes: "
                + ", ".join(f"{path} ({mode})" for path, mode in modes.items()))
    if pairs is None and len(modes) == len(artifacts):
        pairs = set(modes.values()) == {"pairwise"}
    if pairs is not None:  # with an unreadable artifact the fields a line needs are unknown
        pre.run(check_input, args.input, with_images(pair_fields if pairs else pointwise_fields,
                                                     getattr(args, "allow_network", False)))
    _at_least(pre, args, "chunk_size", 1)
    _backbone_problems(pre, args, args.model, check_model=bool(args.model))
    if not args.model and metas[artifacts[0]]:
        pre.add(_artifact_backbone_problem(artifacts[0], metas[artifacts[0]]))
    pre.run(check_output, args.output, args.input, _job(args, artifacts))
    if not getattr(args, "ray", False):  # Ray Data writes a directory of shards
        pre.add(output_file_problem("--output", args.output))
    return modes


def _finished(args: argparse.Namespace) -> bool:
    """A rerun of a job whose output already answers every input line says so instead of loading the model."""
    from activation_rm.scoring.streaming import output_complete

    if getattr(args, "ray", False) or not output_complete(args.input, args.output):
        return False
    print(f"nothing to do: {args.output} already answers every line of {args.input}; give a new --output "
          "(or delete it) to run again", file=sys.stderr)
    return True


def _job_interrupted(args: argparse.Namespace) -> str:
    """What an interrupted scoring job kept: the complete output lines, which a rerun continues after."""
    from activation_rm.scoring.streaming import answered_through

    if getattr(args, "ray", False):
        return f"the Ray job stopped; {args.output} may hold part of its shards"
    try:
        done = answered_through(args.output)
    except (OSError, InputProblem):
        done = 0
    if not done:
        return f"nothing was written to {args.output}; rerun the same command to start"
    return (f"{args.output} keeps the results through input line {done}; rerun the same command to continue "
            "after it")


def _fit_interrupted(args: argparse.Namespace) -> str:
    out = getattr(args, "out", None)
    where = f" to {out}" if out else ""
    return f"nothing was saved{where} (a fit keeps no partial state); rerun the same command to start again"


def _nothing_kept(args: argparse.Namespace) -> str:
    return "nothing partial was kept; rerun the same command"


#: ``fit`` options that map one-to-one onto ContextConfig / SelectionConfig / JudgeTemplate fields
FIT_OPTIONS = ("steps", "masks_per_step", "lr", "init_logit", "final_samples", "loss", "final_rule", "n_contexts",
               "n_shots", "demos", "context_tokens", "queries_per_demo_set", "layout", "max_length",
               "held_out_fraction")


def _fit_options(args: argparse.Namespace, criterion: str) -> dict[str, Any]:
    """The fields of the fit's configuration objects given on the command line (None: the library's default)."""
    options = {key: getattr(args, key) for key in FIT_OPTIONS}
    return {**options, "criterion": criterion, "mode": args.mode, "balance_classes": args.balance_classes or None}


def _fit_items(args: argparse.Namespace, examples: Sequence[Any], template: Any, contexts: Any,
               selection: Any) -> list[Any]:
    """The labelled items the means average over, after the checks that need the examples: their kind against
    --mode, enough items for --n-shots, a training set left by --held-out-fraction, enough examples for --auto."""
    from activation_rm.fit.activations import check_enough_items
    from activation_rm.inputs.data import PairwiseExample
    from activation_rm.judge.templates import PAIRWISE, labelled_items
    from activation_rm.scoring.reward_model import split_held_out

    if template.mode == PAIRWISE and not isinstance(examples[0], PairwiseExample):
        raise InputProblem(f"--mode pairwise needs pairs {{prompt, chosen, rejected}}; {args.examples} holds "
                           "pointwise examples")
    items = labelled_items(examples, template.mode)
    check_enough_items(len(items), contexts)
    train, _ = split_held_out(examples, selection.held_out_fraction, args.seed)
    if not train:
        raise InputProblem(f"--held-out-fraction {selection.held_out_fraction} leaves none of the {len(examples)} "
                           "examples to train on")
    if args.auto:
        from activation_rm.scoring.auto import fit_auto

        needed = 2 * fit_auto.__kwdefaults__["folds"]
        if len(examples) < needed:
            raise InputProblem(f"--auto needs at least {needed} examples for cross-validation; {args.examples} has "
                               f"{len(examples)}")
    return items


def cmd_fit(args: argparse.Namespace) -> int:
    from activation_rm.fit.activations import SingleVerdictWarning, single_verdict_message
    from activation_rm.inputs.data import load_examples
    from activation_rm.scoring.reward_model import fit_configs

    pre = Preflight()
    criterion = pre.run(_criterion, args)
    configs = pre.run(fit_configs, None, None, None, _fit_options(args, criterion or "(not given)"))
    examples = pre.run(load_examples, args.examples)  # every bad line is reported before the backbone loads
    items = pre.run(_fit_items, args, examples, *configs) if examples and configs else None
    _backbone_problems(pre, args, args.model)
    pre.add(artifact_dir_problem("--out", args.out, args.overwrite))
    pre.finish()
    warning = single_verdict_message([verdict for _, verdict in items])
    if warning:
        print(f"warning: {args.examples}: {warning}", file=sys.stderr)
    template, contexts, selection = configs

    from activation_rm.scoring.reward_model import ActivationRM

    backbone = _backbone(args)
    started = time.perf_counter()
    if args.auto:
        from activation_rm.scoring.auto import fit_auto as fit
    else:
        fit = ActivationRM.fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingleVerdictWarning)  # said above, before the load
        rm = fit(backbone, examples, template, contexts=contexts, selection=selection, seed=args.seed,
                 progress=not args.quiet, allow_network=args.allow_network)
    path = rm.save(args.out)
    print(f"fitted {args.mode} Activation RM in {time.perf_counter() - started:.1f} s: "
          f"{int(rm.mask.sum())} of {rm.mask.numel()} heads steered; saved to {path}")
    truncated = rm.fit_info.get("truncated_examples", 0)
    if truncated:
        print(f"warning: {truncated} of {len(examples)} examples exceeded max_length={rm.template.max_length} tokens "
              "and were truncated inside the response(s); the count is recorded in arm.json", file=sys.stderr)
    auto = rm.fit_info.get("auto")
    if auto:
        print(f"--auto chose {auto['chosen']} (cross-validated pair accuracy {auto['cv_accuracy'][auto['chosen']]:.3f}"
              f" over {auto['folds']} folds)")
    return 0


def _prepare_job(args: argparse.Namespace, artifacts: Sequence[str], pairs: bool | None = None) -> dict[str, str] | None:
    """Every check of a scoring job before its model loads; None when its output is already complete."""
    pre = Preflight()
    modes = _check_job(pre, args, artifacts, pairs)
    pre.finish()
    return None if _finished(args) else modes


def cmd_score(args: argparse.Namespace) -> int:
    if _prepare_job(args, [args.artifact]) is None:
        return 0
    if getattr(args, "ray", False):  # Ray Data batch scoring (the [ray] extra); imported only when asked for
        from activation_rm.serve.cli import run_score_ray

        return run_score_ray(args)
    from activation_rm.scoring.streaming import (
        chunk_images,
        pair_fields,
        pointwise_fields,
        run_jsonl_job,
        with_images,
    )

    rm = _load_rm(args)
    if args.without_steering:
        rm = rm.without_steering()
    truncated = 0

    if rm.mode == "pointwise":
        def score_chunk(chunk: Sequence[Any]) -> list[dict[str, Any]]:
            nonlocal truncated
            scores = rm.score([p for p, _ in chunk], [r for _, r in chunk], images=chunk_images(chunk))
            truncated += rm.last_truncated
            return [{"score": s} for s in scores]
        parse = pointwise_fields
    else:
        def score_chunk(chunk: Sequence[Any]) -> list[dict[str, Any]]:
            nonlocal truncated
            result = rm.compare([c[0] for c in chunk], [c[1] for c in chunk], [c[2] for c in chunk],
                                images=chunk_images(chunk))
            truncated += rm.last_truncated
            return [{"score_a": r.score_a, "score_b": r.score_b, "preferred": r.preferred} for r in result]
        parse = pair_fields
    stats = run_jsonl_job(args.input, args.output, with_images(parse, args.allow_network), score_chunk,
                          chunk_size=args.chunk_size, job=_job(args, [args.artifact]))
    print(f"scored {stats.scored} new line(s) into {args.output}"
          + (f" (resumed after line {stats.done_before})" if stats.done_before else "")
          + (f"; {truncated} input(s) were truncated to max_length" if truncated else "") + stats.failure_note(),
          file=sys.stderr)
    return 1 if stats.failed else 0


def cmd_compare(args: argparse.Namespace) -> int:
    from activation_rm.scoring.streaming import chunk_images, pair_fields, run_jsonl_job, with_images

    if _prepare_job(args, [args.artifact], pairs=True) is None:
        return 0
    rm = _load_rm(args)
    if args.without_steering:
        rm = rm.without_steering()
    labelled = {"n": 0, "right": 0}

    def parse(path: Path, number: int, record: dict[str, Any]):
        return pair_fields(path, number, record)

    def score_chunk(chunk: Sequence[Any]) -> list[dict[str, Any]]:
        result = rm.compare([c[0] for c in chunk], [c[1] for c in chunk], [c[2] for c in chunk],
                            images=chunk_images(chunk))
        for (_, _, _, keys), r in zip(chunk, result):
            if keys == ("chosen", "rejected"):
                labelled["n"] += 1
                labelled["right"] += r.preferred == "a"
        return [{"score_a": r.score_a, "score_b": r.score_b, "preferred": r.preferred} for r in result]

    stats = run_jsonl_job(args.input, args.output, with_images(parse, args.allow_network), score_chunk,
                          chunk_size=args.chunk_size, job=_job(args, [args.artifact]))
    message = f"compared {stats.scored} new pair(s) into {args.output}"
    if labelled["n"]:
        message += f"; accuracy on chosen/rejected pairs this run: {labelled['right'] / labelled['n']:.3f} ({labelled['n']})"
    print(message + stats.failure_note(), file=sys.stderr)
    return 1 if stats.failed else 0


def cmd_inspect(args: argparse.Namespace) -> int:
    import torch

    from activation_rm.apps.plots import head_heatmap
    from activation_rm.scoring.artifacts import read_artifact

    tensors, meta = read_artifact(args.artifact)
    probs, mask = tensors["probs"], tensors["mask"].bool()
    print(f"artifact:  {args.artifact}")
    print(f"backbone:  {meta['backbone'].get('name')} ({meta['backbone'].get('model_type')})")
    print(f"mode:      {meta['mode']}    criterion: {meta['criterion']}")
    print(f"heads:     {int(mask.sum())} of {mask.numel()} selected (layers x heads = {tuple(mask.shape)})")
    fit = meta.get("fit", {})
    if fit:
        print(f"fit:       {fit.get('n_examples')} examples, {fit.get('selection', {}).get('steps')} steps, "
              f"seed {meta.get('seed')}, means {fit.get('means_seconds')} s + selection {fit.get('selection_seconds')} s")
        selection = fit.get("selection", {})
        print(f"settings:  loss {selection.get('loss', 'vocab')}, final mask by {selection.get('final_rule', 'accuracy')}"
              f", {selection.get('steps')} x {selection.get('masks_per_step')} REINFORCE, contexts {fit.get('contexts')}")
    auto = fit.get("auto")
    if auto:
        scores = ", ".join(f"{name} {acc:.3f}" for name, acc in auto["cv_accuracy"].items())
        print(f"auto:      chose {auto['chosen']} by {auto['folds']}-fold cross-validated pair accuracy ({scores}); "
              f"{auto['seconds']} s in all")
    print("\nlayer  head  P(include)")
    order = sorted(mask.nonzero().tolist(), key=lambda lh: -float(probs[lh[0], lh[1]]))
    for layer, head in order:
        print(f"{layer:>5}  {head:>4}  {float(probs[layer, head]):>10.3f}")
    per_layer = mask.sum(1)
    busiest = torch.argsort(per_layer, descending=True)[:3].tolist()
    print("\nmost steered layers: " + ", ".join(f"{layer} ({int(per_layer[layer])})" for layer in busiest))
    if args.png:
        head_heatmap(probs, mask, args.png, title=f"{meta['criterion'][:60]}")
        print(f"heat map written to {args.png}")
    if args.json:
        print(json.dumps({"selected_heads": meta["selected_heads"]}))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from activation_rm.serve.cli import run_serve  # FastAPI/uvicorn/Ray are imported only when serving

    pre = Preflight()
    _backbone_problems(pre, args, args.model, check_model=bool(args.model))  # --port and limits: serve.cli's
    pre.finish()
    return run_serve(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from activation_rm.apps.demo import check_criterion_name, run_demo
    from activation_rm.fit.selection import SelectionConfig

    pre = Preflight()
    pre.run(check_criterion_name, args.criterion)
    if args.steps is not None:
        pre.run(SelectionConfig, steps=args.steps)
    _backbone_problems(pre, args, args.model)
    if args.out:
        pre.add(artifact_dir_problem("--out", args.out, args.overwrite))
    pre.finish()
    backbone = _backbone(args)
    print(f"backbone: {backbone.name} ({backbone.num_layers} layers x {backbone.num_heads} heads, {backbone.dtype})")
    result = run_demo(backbone, args.criterion, seed=args.seed, steps=args.steps, progress=not args.quiet)
    print(result.table())
    if args.out:
        result.rm.save(args.out)
        print(f"artifact saved to {args.out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from activation_rm.eval.command import cmd_eval as run

    return run(args)


def cmd_build_preferencehack(args: argparse.Namespace) -> int:
    from activation_rm.eval.command import cmd_build_preferencehack as run

    return run(args)


def cmd_score_criteria(args: argparse.Namespace) -> int:
    """Several pointwise artifacts on one backbone score each line in one pass (see activation_rm.forward.shared_prefix)."""
    from activation_rm.scoring.engine import score_criteria
    from activation_rm.scoring.reward_model import ActivationRM
    from activation_rm.scoring.streaming import pointwise_fields, run_jsonl_job

    pre = Preflight()
    modes = _check_job(pre, args, args.artifacts, pairs=False)
    pairwise = [path for path, mode in modes.items() if mode != "pointwise"]
    if pairwise:
        pre.add("score-criteria needs pointwise artifacts; pairwise: " + ", ".join(pairwise))
    pre.finish()
    if _finished(args):
        return 0
    first = _load_rm(argparse.Namespace(**{**vars(args), "artifact": args.artifacts[0]}))
    rms = [first] + [ActivationRM.load(path, backbone=first.backbone) for path in args.artifacts[1:]]
    names = [Path(path).name for path in args.artifacts]
    if len(set(names)) < len(names):
        names = [str(path) for path in args.artifacts]

    def score_chunk(chunk: Sequence[Any]) -> list[dict[str, Any]]:
        scores = score_criteria(dict(zip(names, rms)), [p for p, _ in chunk], [r for _, r in chunk])
        return [{"scores": {name: scores[name][i] for name in names}} for i in range(len(chunk))]

    stats = run_jsonl_job(args.input, args.output, pointwise_fields, score_chunk, chunk_size=args.chunk_size,
                          job=_job(args, args.artifacts))
    print(f"scored {stats.scored} new line(s) under {len(rms)} criteria into {args.output}"
          + (f" (resumed after line {stats.done_before})" if stats.done_before else "") + stats.failure_note(),
          file=sys.stderr)
    return 1 if stats.failed else 0


def cmd_best_of_n(args: argparse.Namespace) -> int:
    """Sample ``--n`` completions per prompt from the policy and keep the one the Activation RM scores highest."""
    from activation_rm.apps.best_of_n import SETTINGS_KEY, Policy, best_of_n, job_of, prompt_line
    from activation_rm.scoring.streaming import run_jsonl_job

    config, settings = _check_best_of_n(args)
    if _finished(args):
        return 0
    rm = _load_rm(args)
    if args.without_steering:
        rm = rm.without_steering()
    with _loading(args.policy):
        policy = Policy.from_backbone(rm.backbone) if not args.policy else Policy.load(
            args.policy, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code)

    def pick_chunk(chunk: Sequence[Any]) -> list[dict[str, Any]]:
        picks = best_of_n(rm, policy, [p for _, p in chunk], [number for number, _ in chunk], config)
        return [{**p.to_dict(), SETTINGS_KEY: settings} for p in picks]

    stats = run_jsonl_job(args.input, args.output, prompt_line, pick_chunk, chunk_size=args.chunk_size,
                          job=job_of(args.artifact, settings))
    print(f"picked the best of {args.n} for {stats.scored} new prompt(s) into {args.output}"
          + (f" (resumed after line {stats.done_before})" if stats.done_before else "") + stats.failure_note(),
          file=sys.stderr)
    return 1 if stats.failed else 0


def _check_best_of_n(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Every check of a best-of-N job before a model loads: the sampling options, --policy, the artifact, input
    and output (best_of_n.check_job: a rerun with other settings is refused) and the backbone options."""
    from activation_rm.apps.best_of_n import SamplingConfig, check_job, prompt_line, run_settings
    from activation_rm.model.backbone import model_problem
    from activation_rm.scoring.artifacts import read_artifact_meta
    from activation_rm.scoring.streaming import check_input

    pre = Preflight()
    config = pre.run(SamplingConfig.from_args, args)
    meta = pre.run(read_artifact_meta, args.artifact)
    settings = config and run_settings(config, args.policy or "artifact backbone", args.artifact,
                                       args.without_steering)
    if config and meta:
        pre.run(check_job, args.artifact, args.input, args.output, settings)
    else:
        pre.run(check_input, args.input, prompt_line)
    _at_least(pre, args, "chunk_size", 1)
    _backbone_problems(pre, args, args.model, check_model=bool(args.model))
    if meta and not args.model:
        pre.add(_artifact_backbone_problem(args.artifact, meta))
    if args.policy:
        pre.options([FieldProblem("best-of-n", "policy", problem)] if (problem := model_problem(args.policy)) else [])
    pre.add(output_file_problem("--output", args.output))
    pre.finish()
    return config, settings


def _add_best_of_n_parser(sub: Any) -> None:
    p = sub.add_parser("best-of-n", help="sample N completions per prompt from a policy and keep the one the "
                                         "Activation RM scores highest (seeded; appended, a rerun resumes)")
    p.add_argument("artifact", help="pointwise artifact directory written by `fit`")
    p.add_argument("input", help="input JSONL with a prompt per line (other fields are copied to the output)")
    p.add_argument("--output", "-o", required=True, help="output JSONL: response, score, pick, samples, scores")
    p.add_argument("--policy", help="policy model: HF id, local directory or .gguf (default: the artifact's backbone)")
    add_sampling_arguments(p)
    p.add_argument("--chunk-size", type=int, default=4, help="prompts sampled, scored and written per chunk")
    p.add_argument("--without-steering", action="store_true", help="pick with the zero-shot judge (no heads replaced)")
    _add_backbone_args(p)
    p.set_defaults(func=cmd_best_of_n, interrupted=_job_interrupted)


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """``--n``, ``--max-new-tokens``, ``--temperature``, ``--top-p``, ``--seed`` with
    :class:`~activation_rm.apps.best_of_n.SamplingConfig`'s defaults (also used by benchmarks/best_of_n.py)."""
    from activation_rm.apps.best_of_n import SamplingConfig

    d = SamplingConfig()
    parser.add_argument("--n", type=int, default=d.n, help=f"completions sampled per prompt (default {d.n})")
    parser.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens,
                        help=f"tokens per completion (default {d.max_new_tokens})")
    parser.add_argument("--temperature", type=float, default=d.temperature,
                        help=f"sampling temperature (default {d.temperature})")
    parser.add_argument("--top-p", type=float, default=d.top_p, help=f"nucleus sampling mass (default {d.top_p})")
    parser.add_argument("--seed", type=int, default=d.seed,
                        help="run seed; each prompt's seed is fixed by it and its line")


def _add_chunk_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chunk-size", type=int, default=64, help="lines scored and written per chunk")


def _add_fit_tuning_args(fit: argparse.ArgumentParser) -> None:
    """The knobs of FIT_OPTIONS (plus --balance-classes, --held-out-fraction); None leaves the library's default."""
    defaults = "(default: the library's, see docs/method.md)"
    fit.add_argument("--steps", type=int, help=f"REINFORCE steps {defaults}")
    fit.add_argument("--masks-per-step", type=int, help=f"masks sampled per REINFORCE step {defaults}")
    fit.add_argument("--lr", type=float, help="Adam learning rate of the head logits (default 0.1)")
    fit.add_argument("--init-logit", type=float, help=f"initial inclusion logit of every head {defaults}")
    fit.add_argument("--final-samples", type=int, help=f"masks drawn to pick the final one from {defaults}")
    fit.add_argument("--loss", choices=LOSSES, help=f"REINFORCE loss per mask {defaults}")
    fit.add_argument("--final-rule", choices=FINAL_RULES, help=f"how the final mask is picked {defaults}")
    fit.add_argument("--n-contexts", type=int, help=f"few-shot contexts averaged for the means {defaults}")
    fit.add_argument("--n-shots", type=int, help=f"demonstrations per averaging context {defaults}")
    fit.add_argument("--demos", choices=DEMO_STYLES, help=f"demonstrations as chat turns or inline {defaults}")
    fit.add_argument("--context-tokens", type=int,
                     help=f"token budget of one averaging context, shared by its items {defaults}")
    fit.add_argument("--queries-per-demo-set", type=int,
                     help=f"averaging contexts per draw of demonstrations (their shared prefix runs once) {defaults}")
    fit.add_argument("--balance-classes", action="store_true",
                     help="class-balanced means: average Yes- and No-query contexts separately, then the two")
    fit.add_argument("--layout", choices=LAYOUTS, help=f"judge query layout {defaults}")
    fit.add_argument("--held-out-fraction", type=float,
                     help=f"share of examples held out to pick the final mask (0: judge on the training set) {defaults}")
    fit.add_argument("--max-length", type=int, help="token limit per judge query (default 2048)")


def _add_fit_parser(sub: Any) -> None:
    fit = sub.add_parser("fit", help="fit an Activation RM on a JSONL file of labelled examples")
    fit.add_argument("examples", help="JSONL: {prompt, response, label} or {prompt, chosen, rejected} per line")
    fit.add_argument("--criterion", help="what is judged, in words")
    fit.add_argument("--criterion-file", help="read the criterion text from a file")
    fit.add_argument("--out", "-o", required=True, help="artifact directory to write")
    fit.add_argument("--overwrite", action="store_true", help="replace an artifact already in --out")
    fit.add_argument("--mode", choices=("pointwise", "pairwise"), default="pointwise")
    _add_fit_tuning_args(fit)
    fit.add_argument("--auto", action="store_true",
                     help="choose the selection settings by cross-validation on the examples (about 3x a fit)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--quiet", action="store_true", help="no progress bars")
    fit.add_argument("--allow-network", action="store_true", help="fetch image URLs given in the examples' images")
    _add_backbone_args(fit)
    fit.set_defaults(func=cmd_fit, interrupted=_fit_interrupted)


def _add_jsonl_job_parser(sub: Any, name: str, func: Any, text: str) -> argparse.ArgumentParser:
    """``score`` and ``compare`` take the same arguments: one artifact, an input and a resumable output JSONL."""
    p = sub.add_parser(name, help=text)
    p.add_argument("artifact", help="artifact directory written by `fit`")
    p.add_argument("input", help="input JSONL")
    p.add_argument("--output", "-o", required=True, help="output JSONL (appended; a rerun resumes)")
    _add_chunk_size(p)
    p.add_argument("--without-steering", action="store_true", help="zero-shot baseline: replace no heads")
    p.add_argument("--allow-network", action="store_true", help="fetch image URLs given in the lines' images")
    _add_backbone_args(p)
    p.set_defaults(func=func, interrupted=_job_interrupted)
    return p


def _add_score_parser(sub: Any) -> None:
    from activation_rm.serve.cli import add_ray_score_arguments  # argparse only, no server packages

    score = _add_jsonl_job_parser(sub, "score", cmd_score,
                                  "score a JSONL of {prompt, response} (pairs for pairwise artifacts)")
    add_ray_score_arguments(score)


def _add_compare_parser(sub: Any) -> None:
    _add_jsonl_job_parser(sub, "compare", cmd_compare, "compare pairs {prompt, chosen/rejected | response_a/response_b}")


def _add_score_criteria_parser(sub: Any) -> None:
    many = sub.add_parser("score-criteria", help="score a JSONL of {prompt, response} under several pointwise "
                                                 "artifacts on one backbone in one pass")
    many.add_argument("artifacts", nargs="+", help="artifact directories written by `fit` (same backbone)")
    many.add_argument("--input", "-i", required=True, help="input JSONL")
    many.add_argument("--output", "-o", required=True, help="output JSONL with {\"scores\": {artifact: score}} "
                                                            "(appended; a rerun resumes)")
    _add_chunk_size(many)
    _add_backbone_args(many)
    many.set_defaults(func=cmd_score_criteria, interrupted=_job_interrupted)


def _add_inspect_parser(sub: Any) -> None:
    inspect = sub.add_parser("inspect", help="show the selected heads of an artifact (table and PNG heat map)")
    inspect.add_argument("artifact")
    inspect.add_argument("--png", help="write a layer x head heat map of inclusion probabilities here")
    inspect.add_argument("--json", action="store_true", help="also print the selected heads as JSON")
    inspect.set_defaults(func=cmd_inspect)


def _add_demo_parser(sub: Any) -> None:
    demo = sub.add_parser("demo", help="fit on a bundled criterion with the embedded model and compare with zero-shot")
    demo.add_argument("--criterion", default="short_correct", help="bundled criterion: short_correct or honest_not_flattering")
    demo.add_argument("--steps", type=int, help="REINFORCE steps (default: the library's)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", help="also save the fitted artifact here")
    demo.add_argument("--overwrite", action="store_true", help="replace an artifact already in --out")
    demo.add_argument("--quiet", action="store_true")
    _add_backbone_args(demo)
    demo.set_defaults(func=cmd_demo, interrupted=_fit_interrupted)


def _add_serve_parser(sub: Any) -> None:
    from activation_rm.serve.cli import add_serve_arguments  # argparse only, no server packages

    serve = sub.add_parser("serve", help="serve artifacts over HTTP: /score, /compare, /get_reward (OpenRLHF), /health, /info")
    add_serve_arguments(serve)
    _add_backbone_args(serve)
    serve.set_defaults(func=cmd_serve)


def _eval_interrupted(args: argparse.Namespace) -> str:
    return f"the items judged so far stay in {args.out}; rerun the same command to resume"


def _add_eval_parsers(sub: Any) -> None:
    """``eval`` and ``build-preferencehack``, whose arguments live with the eval code."""
    from activation_rm.eval.command import (  # argparse only; runs nothing
        add_build_arguments,
        add_eval_arguments,
    )

    evaluate = sub.add_parser("eval", help="compare Activation RMs with few-shot baselines on benchmarks "
                                           "(resumable per-item JSONL, summary JSON, Markdown, PNG)")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(func=cmd_eval, interrupted=_eval_interrupted)
    build = sub.add_parser("build-preferencehack", help="build the PreferenceHack reconstruction (bias and control "
                                                        "splits) from RewardBench pairs")
    add_build_arguments(build)
    build.set_defaults(func=cmd_build_preferencehack)


class _VersionAction(argparse.Action):
    """``--version``: argparse's version action, reading the package metadata only when asked (``--help`` stays
    fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from activation_rm.version import __version__

        print(f"activation-rm {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="activation-rm", description=__doc__)
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_subcommand in (_add_fit_parser, _add_score_parser, _add_compare_parser, _add_score_criteria_parser,
                           _add_best_of_n_parser, _add_inspect_parser, _add_demo_parser, _add_serve_parser,
                           _add_eval_parsers):
        add_subcommand(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from activation_rm.model.errors import BackboneMismatchError, UnsupportedModelError

    try:
        return args.func(args)
    except (InputProblem, BackboneMismatchError, UnsupportedModelError, FileNotFoundError, FileExistsError,
            IsADirectoryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line on what was kept and how to go on, no traceback
        print(f"interrupted: {getattr(args, 'interrupted', _nothing_kept)(args)}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
