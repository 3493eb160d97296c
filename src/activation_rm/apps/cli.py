"""The activation-rm command line: fit an Activation RM on a few labelled examples, then score, compare,
inspect and serve it."""

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

from activation_rm.inputs.checks import ConfigError, FieldProblem, at_least, check_fields
from activation_rm.inputs.data import InputProblem
from activation_rm.inputs.flags import add_flags, flag_values
from activation_rm.inputs.progress import progress, shows_progress

T = TypeVar("T")


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
    from activation_rm.inputs.progress import hush_library_bars
    from activation_rm.model.backbone import load_backbone

    hush_library_bars(getattr(args, "quiet", False))

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
    from activation_rm.inputs.progress import hush_library_bars
    from activation_rm.scoring.reward_model import ActivationRM

    hush_library_bars(getattr(args, "quiet", False))

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


@contextmanager
def _job_progress(args: argparse.Namespace, unit: str) -> Iterator[Callable[[int], None] | None]:
    """The progress bar of a streaming job, as run_jsonl_job's ``on_chunk``: over the input's lines, those an
    earlier run answered counted as done; None with --quiet or when stderr is not a terminal."""
    from activation_rm.scoring.streaming import answered_through

    if not shows_progress(args.quiet):
        yield None
        return
    through = answered_through(args.output)
    total = done = 0
    with open(args.input, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                total += 1
                done += number <= through
    with progress(total, args.command, unit=unit, initial=done) as bar:
        yield bar.update


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


def _fit_options(args: argparse.Namespace, criterion: str) -> dict[str, Any]:
    """The fields of the fit's configuration objects given on the command line (flags not given keep the
    dataclasses' defaults)."""
    from activation_rm.fit.config import ContextConfig, SelectionConfig
    from activation_rm.judge.templates import JudgeTemplate

    options = {}
    for kind in (JudgeTemplate, ContextConfig, SelectionConfig):
        options.update(flag_values(args, kind, exclude=("criterion",)))
    return {**options, "criterion": criterion}


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
                 progress=shows_progress(args.quiet), allow_network=args.allow_network)
    path = rm.save(args.out)
    print(f"fitted {rm.mode} Activation RM in {time.perf_counter() - started:.1f} s: "
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
    with _job_progress(args, "line") as advance:
        stats = run_jsonl_job(args.input, args.output, with_images(parse, args.allow_network), score_chunk,
                              chunk_size=args.chunk_size, on_chunk=advance, job=_job(args, [args.artifact]))
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

    with _job_progress(args, "pair") as advance:
        stats = run_jsonl_job(args.input, args.output, with_images(parse, args.allow_network), score_chunk,
                              chunk_size=args.chunk_size, on_chunk=advance, job=_job(args, [args.artifact]))
    message = f"compared {stats.scored} new pair(s) into {args.output}"
    if labelled["n"]:
        message += f"; accuracy on chosen/rejected pairs this run: {labelled['right'] / labelled['n']:.3f} ({labelled['n']})"
    print(message + stats.failure_note(), file=sys.stderr)
    return 1 if stats.failed else 0


def inspect_report(path: str, tensors: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """What ``inspect --json`` prints: an artifact's criterion, mode, intervention, backbone, selected heads (by probability)
    and their layers, template, fit settings and fit record (the checksums are in arm.json itself)."""
    probs, mask = tensors["probs"], tensors["mask"].bool()
    layers, heads = (int(n) for n in mask.shape)
    selected = sorted(mask.nonzero().tolist(), key=lambda lh: (-float(probs[lh[0], lh[1]]), lh[0], lh[1]))
    per_layer = [int(n) for n in mask.sum(1).tolist()]
    fit = meta.get("fit", {})
    return {
        "artifact": str(path), "criterion": meta["criterion"], "mode": meta["mode"],
        "intervention": meta.get("intervention", "replace"),
        "backbone": {k: meta["backbone"].get(k) for k in ("name", "model_type")},
        "heads": {"selected": len(selected), "total": layers * heads, "layers": layers, "heads_per_layer": heads},
        "selected_heads": [{"layer": layer, "head": head, "p_include": round(float(probs[layer, head]), 6)}
                           for layer, head in selected],
        "steered_heads_per_layer": per_layer,
        "template": {k: v for k, v in meta.get("template", {}).items() if k != "criterion"},
        "seed": meta.get("seed"),
        "settings": {"contexts": fit.get("contexts"), "selection": fit.get("selection"),
                     "held_out_fraction": fit.get("held_out_fraction")},
        "fit": {k: v for k, v in fit.items() if k not in ("contexts", "selection", "held_out_fraction")},
        "library_version": meta.get("library_version"), "format_version": meta.get("format_version"),
    }


def _seconds(value: Any) -> str:
    return "?" if value is None else f"{float(value):.1f} s"


def inspect_table(report: dict[str, Any], width: int = 100) -> str:
    """``inspect``'s table for a person: one row per fact, then the selected heads by inclusion probability."""
    import textwrap

    heads, template = report["heads"], report["template"]
    fit, settings = report["fit"], report["settings"]
    contexts, selection = settings.get("contexts") or {}, settings.get("selection") or {}
    per_layer = report["steered_heads_per_layer"]
    busiest = sorted(range(len(per_layer)), key=lambda layer: (-per_layer[layer], layer))[:5]
    rows = [
        ("criterion", report["criterion"]),
        ("mode", f"{report['mode']} (layout {template.get('layout', 'criterion_first')}, max_length "
                 f"{template.get('max_length')} tokens)"),
        ("backbone", f"{report['backbone']['name']} ({report['backbone']['model_type']})"),
        ("heads", f"{heads['selected']} of {heads['total']} selected ({heads['layers']} layers x "
                  f"{heads['heads_per_layer']} heads), "
                  + ("shifted by" if report["intervention"] == "shift" else "replaced by") + " their means"),
        ("layers", f"{sum(1 for n in per_layer if n)} of {heads['layers']} steered; most steered: "
                   + ", ".join(f"{layer} ({per_layer[layer]})" for layer in busiest if per_layer[layer])),
    ]
    if selection:
        budget = contexts.get("context_tokens")
        rows.append(("settings", f"loss {selection.get('loss', 'vocab')}, final mask by "
                                 f"{selection.get('final_rule', 'accuracy')} of {selection.get('final_samples')}, "
                                 f"{selection.get('steps')} steps x {selection.get('masks_per_step')} masks, lr "
                                 f"{selection.get('lr')}; {contexts.get('n_contexts')} contexts x "
                                 f"{contexts.get('n_shots')} shots (demos {contexts.get('demos', 'turns')}, "
                                 f"{budget or 'max_length'} tokens each"
                                 + (", class-balanced" if contexts.get("balance_classes") else "") + ")"
                                 f"; held out {settings.get('held_out_fraction')}"))
    if fit:
        rows.append(("fit", f"{fit.get('n_examples')} examples ({fit.get('n_held_out_examples', 0)} held out), seed "
                            f"{report['seed']}, means {_seconds(fit.get('means_seconds'))} + selection "
                            f"{_seconds(fit.get('selection_seconds'))}"
                            + (f", {fit['truncated_examples']} truncated" if fit.get("truncated_examples") else "")))
    auto = fit.get("auto")
    if auto:
        scores = ", ".join(f"{name} {acc:.3f}" for name, acc in auto["cv_accuracy"].items())
        rows.append(("auto", f"chose {auto['chosen']} by {auto['folds']}-fold cross-validated pair accuracy "
                             f"({scores}); {auto['seconds']} s in all"))
    rows.append(("artifact", f"{report['artifact']} (format {report['format_version']}, written by activation-rm "
                             f"{report['library_version']})"))
    key = max(len(name) for name, _ in rows) + 2
    lines = []
    for name, value in rows:
        wrapped = textwrap.wrap(str(value), width=max(40, width - key)) or [""]
        lines.append(f"{name:<{key}}{wrapped[0]}")
        lines += [" " * key + more for more in wrapped[1:]]
    lines += ["", "layer  head  P(include)"]
    lines += [f"{h['layer']:>5}  {h['head']:>4}  {h['p_include']:>10.3f}" for h in report["selected_heads"]]
    return "\n".join(lines)


def cmd_inspect(args: argparse.Namespace) -> int:
    from activation_rm.scoring.artifacts import read_artifact

    tensors, meta = read_artifact(args.artifact)
    report = inspect_report(args.artifact, tensors, meta)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        import shutil

        print(inspect_table(report, width=min(shutil.get_terminal_size((100, 24)).columns, 120)))
    if args.png:
        from activation_rm.apps.plots import head_heatmap

        head_heatmap(tensors["probs"], tensors["mask"].bool(), args.png, title=f"{meta['criterion'][:60]}")
        print(f"heat map written to {args.png}", file=sys.stderr if args.json else sys.stdout)
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
    result = run_demo(backbone, args.criterion, seed=args.seed, steps=args.steps, progress=shows_progress(args.quiet))
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


def _criteria_input(args: argparse.Namespace) -> None:
    """``score-criteria ARTIFACT... INPUT``: the last positional argument is the input, as for ``score``; the old
    ``--input``/``-i`` still works (all positionals are then artifacts), with a warning."""
    if args.input_option is not None:
        print("warning: score-criteria --input/-i is deprecated; give the input JSONL as the last positional "
              "argument: activation-rm score-criteria ARTIFACT... INPUT -o OUT", file=sys.stderr)
        args.artifacts = [*args.artifacts, *([args.input] if args.input else [])]
        args.input = args.input_option
    elif args.input is None:
        if len(args.artifacts) < 2:
            raise InputProblem("score-criteria needs at least one artifact and the input JSONL: "
                               "activation-rm score-criteria ARTIFACT... INPUT -o OUT")
        *args.artifacts, args.input = args.artifacts


def cmd_score_criteria(args: argparse.Namespace) -> int:
    """Several pointwise artifacts on one backbone score each line in one pass (see activation_rm.forward.shared_prefix)."""
    from activation_rm.scoring.engine import score_criteria
    from activation_rm.scoring.reward_model import ActivationRM
    from activation_rm.scoring.streaming import pointwise_fields, run_jsonl_job

    _criteria_input(args)
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

    with _job_progress(args, "line") as advance:
        stats = run_jsonl_job(args.input, args.output, pointwise_fields, score_chunk, chunk_size=args.chunk_size,
                              on_chunk=advance, job=_job(args, args.artifacts))
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

    with _job_progress(args, "prompt") as advance:
        stats = run_jsonl_job(args.input, args.output, prompt_line, pick_chunk, chunk_size=args.chunk_size,
                              on_chunk=advance, job=job_of(args.artifact, settings))
    print(f"picked the best of {config.n} for {stats.scored} new prompt(s) into {args.output}"
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


# ------------------------------------------------------------------------------------------------- parsers
class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that an ``examples:`` epilog keeps its lines as written (one command a line)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def examples(*commands: str) -> str:
    """An epilog of real example commands (``# ...`` lines are comments on the command after them)."""
    return "examples:\n" + "\n".join(f"  {command}" for command in commands)


def _verb(sub: Any, name: str, text: str, *commands: str, description: str | None = None) -> argparse.ArgumentParser:
    """A verb's parser: ``text`` in the verb list, ``description`` (default ``text``) atop its --help, example
    ``commands`` at its end."""
    return sub.add_parser(name, help=text, description=description or text[0].upper() + text[1:] + ".",
                          epilog=examples(*commands), formatter_class=HelpFormatter)


def _artifact_verb(sub: Any, name: str, text: str, *commands: str,
                   artifact: str = "artifact directory written by `fit`") -> argparse.ArgumentParser:
    """A verb that reads one artifact: :func:`_verb` with the ARTIFACT positional first."""
    parser = _verb(sub, name, text, *commands)
    parser.add_argument("artifact", metavar="ARTIFACT", help=artifact)
    return parser


def _add_backbone_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("backbone")
    group.add_argument("--model", default=None, metavar="MODEL",
                       help="Hugging Face id, local directory or .gguf file (default: the embedded "
                            "SmolLM2-135M-Instruct; for commands that load an artifact: the backbone it was fitted on)")
    group.add_argument("--device", default="auto",
                       help="auto, cpu, cuda, cuda:0, mps ... (default: auto, the GPU(s) when CUDA is available, "
                            "else the CPU)")
    group.add_argument("--dtype", default=None, choices=None, metavar="DTYPE",
                       help="float32, bfloat16 or float16 (default: bfloat16 on a CUDA card that supports it, "
                            "float16 on one that does not, float32 on the CPU)")
    group.add_argument("--trust-remote-code", action="store_true",
                       help="allow the model repository's own Python code to run (default: off)")


def _add_chunk_size(parser: argparse.ArgumentParser, default: int = 64, what: str = "lines") -> None:
    parser.add_argument("--chunk-size", type=int, default=default, metavar="N",
                        help=f"{what} scored and written per chunk; a rerun resumes after the last whole chunk "
                             f"(default: {default})")


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bar (default: a bar with items/s and ETA on stderr when it is a terminal)")


def _add_without_steering(parser: argparse.ArgumentParser, what: str = "score") -> None:
    parser.add_argument("--without-steering", action="store_true",
                        help=f"{what} with the zero-shot judge, replacing no heads: the baseline (default: off)")


def _add_allow_network(parser: argparse.ArgumentParser, where: str) -> None:
    parser.add_argument("--allow-network", action="store_true",
                        help=f"fetch http(s) image URLs named in the {where}' images (default: off; local files "
                             "and data: URIs only)")


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """``--n``, ``--max-new-tokens``, ``--temperature``, ``--top-p``, ``--seed``: the flags of
    :class:`~activation_rm.apps.best_of_n.SamplingConfig` (also used by benchmarks/best_of_n.py; read them back
    with ``SamplingConfig.from_args``)."""
    from activation_rm.apps.best_of_n import SamplingConfig

    add_flags(parser.add_argument_group("sampling"), SamplingConfig)


def _add_fit_parser(sub: Any) -> None:
    from activation_rm.fit.config import ContextConfig, SelectionConfig
    from activation_rm.judge.templates import JudgeTemplate

    fit = _verb(sub, "fit", "fit an Activation RM on a JSONL file of labelled examples",
                "activation-rm fit benchmarks/data/alignment/short_correct_fewshot.jsonl --out my-arm \\",
                "    --criterion 'A good response gives the correct answer in one short sentence.'",
                "activation-rm fit pairs.jsonl --mode pairwise --criterion-file criterion.txt \\",
                "    --model Qwen/Qwen2.5-0.5B-Instruct --steps 300 --out pair-arm")
    fit.add_argument("examples", metavar="EXAMPLES",
                     help="JSONL: {prompt, response, label} or {prompt, chosen, rejected} per line")
    fit.add_argument("--criterion", metavar="TEXT", help="what is judged, in words (required unless "
                                                         "--criterion-file is given)")
    fit.add_argument("--criterion-file", metavar="PATH",
                     help="read the criterion text from a UTF-8 file (required unless --criterion is given)")
    fit.add_argument("--out", "-o", required=True, metavar="DIR", help="artifact directory to write (required)")
    fit.add_argument("--overwrite", action="store_true", help="replace an artifact already in --out (default: off, "
                                                              "an existing artifact is an error)")
    fit.add_argument("--auto", action="store_true",
                     help="choose the selection settings by cross-validation on the examples (about 3x a fit; "
                          "default: off)")
    fit.add_argument("--seed", type=int, default=0, metavar="N",
                     help="seed of the context draws and the head selection (default: 0)")
    fit.add_argument("--quiet", "-q", action="store_true",
                     help="no progress bars (default: bars on stderr when it is a terminal)")
    _add_allow_network(fit, "examples")
    add_flags(fit.add_argument_group("judge query (JudgeTemplate)"), JudgeTemplate, exclude=("criterion",))
    add_flags(fit.add_argument_group("mean activations (ContextConfig)"), ContextConfig)
    add_flags(fit.add_argument_group("head selection (SelectionConfig)"), SelectionConfig)
    _add_backbone_args(fit)
    fit.set_defaults(func=cmd_fit, interrupted=_fit_interrupted)


def _add_job_options(p: argparse.ArgumentParser, func: Any, output_help: str, *, chunk: tuple[int, str] = (64, "lines"),
                     steering: str | None = None, network: bool = False) -> None:
    """What every resumable JSONL job takes after its positionals: ``-o OUT``, ``--chunk-size``, optionally
    ``--without-steering`` (what it does with the zero-shot judge) and ``--allow-network``, ``--quiet`` and the
    backbone options; a Ctrl-C says what was kept."""
    p.add_argument("--output", "-o", required=True, metavar="OUT", help=output_help)
    _add_chunk_size(p, *chunk)
    if steering:
        _add_without_steering(p, steering)
    if network:
        _add_allow_network(p, "lines")
    _add_quiet(p)
    _add_backbone_args(p)
    p.set_defaults(func=func, interrupted=_job_interrupted)


def _add_jsonl_job_parser(sub: Any, name: str, func: Any, text: str, input_help: str,
                          *commands: str) -> argparse.ArgumentParser:
    """``score`` and ``compare`` take the same arguments: one artifact, an input and a resumable output JSONL."""
    p = _artifact_verb(sub, name, text, *commands)
    p.add_argument("input", metavar="INPUT", help=input_help)
    _add_job_options(p, func, "output JSONL: each input line plus its result (appended; a rerun resumes; required)",
                     steering="score", network=True)
    return p


def _add_score_parser(sub: Any) -> None:
    from activation_rm.serve.cli import add_ray_score_arguments  # argparse only, no server packages

    score = _add_jsonl_job_parser(
        sub, "score", cmd_score, "score a JSONL of {prompt, response} (pairs for pairwise artifacts)",
        "input JSONL: {prompt, response} per line ({prompt, chosen, rejected} or {prompt, response_a, response_b} "
        "for a pairwise artifact)",
        "activation-rm score my-arm responses.jsonl -o scores.jsonl",
        "activation-rm score my-arm responses.jsonl -o zero-shot.jsonl --without-steering --chunk-size 16")
    add_ray_score_arguments(score)


def _add_compare_parser(sub: Any) -> None:
    _add_jsonl_job_parser(
        sub, "compare", cmd_compare, "compare pairs {prompt, chosen/rejected | response_a/response_b}",
        "input JSONL: {prompt, chosen, rejected} or {prompt, response_a, response_b} per line",
        "activation-rm compare my-arm pairs.jsonl -o prefs.jsonl",
        "activation-rm compare pair-arm pairs.jsonl -o prefs.jsonl --model Qwen/Qwen2.5-0.5B-Instruct")


def _add_score_criteria_parser(sub: Any) -> None:
    many = _verb(sub, "score-criteria", "score a JSONL of {prompt, response} under several pointwise artifacts on "
                                        "one backbone in one pass",
                 "activation-rm score-criteria correct-arm concise-arm responses.jsonl -o scores.jsonl",
                 "activation-rm score-criteria arms/* responses.jsonl -o scores.jsonl --chunk-size 16")
    many.add_argument("artifacts", nargs="+", metavar="ARTIFACT",
                      help="artifact directories written by `fit` (pointwise, all on one backbone)")
    many.add_argument("input", nargs="?", metavar="INPUT",
                      help="input JSONL of {prompt, response}, the last positional argument as for `score` "
                           "(required; only the deprecated --input may stand in for it)")
    many.add_argument("--input", "-i", dest="input_option", metavar="INPUT",
                      help="deprecated alias of the positional INPUT, which is required: give the input JSONL as "
                           "the last positional argument instead")
    _add_job_options(many, cmd_score_criteria, "output JSONL: each input line plus {\"scores\": {artifact: score}} "
                     "(appended; a rerun resumes; required)")


def _add_best_of_n_parser(sub: Any) -> None:
    p = _artifact_verb(sub, "best-of-n", "sample N completions per prompt from a policy and keep the one the "
                                         "Activation RM scores highest (seeded; appended, a rerun resumes)",
                       "activation-rm best-of-n my-arm prompts.jsonl -o best.jsonl --n 8",
                       "activation-rm best-of-n my-arm prompts.jsonl -o best.jsonl --policy "
                       "Qwen/Qwen2.5-0.5B-Instruct \\",
                       "    --temperature 1.0 --max-new-tokens 128",
                       artifact="pointwise artifact directory written by `fit`")
    p.add_argument("input", metavar="INPUT",
                   help="input JSONL with a prompt per line (other fields are copied to the output)")
    p.add_argument("--policy", metavar="MODEL",
                   help="policy model: HF id, local directory or .gguf (default: the artifact's backbone)")
    add_sampling_arguments(p)
    _add_job_options(p, cmd_best_of_n, "output JSONL: each line plus response, score, pick, samples, scores "
                     "(required)", chunk=(4, "prompts sampled,"), steering="pick")


def _add_inspect_parser(sub: Any) -> None:
    inspect = _artifact_verb(sub, "inspect", "show what an artifact holds: criterion, mode, backbone, the selected "
                                             "heads and their layers, the fit settings (a table, or --json)",
                             "activation-rm inspect results/alignment/arms/short_correct",
                             "activation-rm inspect my-arm --json --png heads.png > my-arm-heads.json")
    inspect.add_argument("--png", metavar="PATH",
                         help="also write a layer x head heat map of inclusion probabilities here (default: none)")
    inspect.add_argument("--json", action="store_true",
                         help="print one JSON object instead of the table, for scripts (default: the table)")
    inspect.set_defaults(func=cmd_inspect)


def _add_demo_parser(sub: Any) -> None:
    from activation_rm.apps.bundled import bundled_names
    from activation_rm.fit.config import SelectionConfig

    demo = _verb(sub, "demo", "fit on a bundled criterion with the embedded model and compare with zero-shot",
                 "activation-rm demo",
                 "activation-rm demo --criterion honest_not_flattering --steps 60 --out honest-arm")
    demo.add_argument("--criterion", default="short_correct", metavar="NAME",
                      help=f"bundled criterion: {' or '.join(bundled_names())} (default: short_correct)")
    add_flags(demo, SelectionConfig, only=("steps",))
    demo.add_argument("--seed", type=int, default=0, metavar="N",
                      help="seed of the context draws and the head selection (default: 0)")
    demo.add_argument("--out", metavar="DIR", help="also save the fitted artifact here (default: not saved)")
    demo.add_argument("--overwrite", action="store_true",
                      help="replace an artifact already in --out (default: off, an existing artifact is an error)")
    demo.add_argument("--quiet", "-q", action="store_true",
                      help="no progress bars (default: bars on stderr when it is a terminal)")
    _add_backbone_args(demo)
    demo.set_defaults(func=cmd_demo, interrupted=_fit_interrupted)


def _add_serve_parser(sub: Any) -> None:
    from activation_rm.serve.cli import add_serve_arguments  # argparse only, no server packages

    serve = _verb(sub, "serve", "serve artifacts over HTTP: /score, /compare, /get_reward (OpenRLHF), /health, /info",
                  "ACTIVATION_RM_TOKEN=secret activation-rm serve my-arm --port 5000",
                  "activation-rm serve correct=correct-arm concise=concise-arm --model Qwen/Qwen2.5-0.5B-Instruct")
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

    evaluate = _verb(sub, "eval", "compare Activation RMs with few-shot baselines on benchmarks (resumable per-item "
                                  "JSONL, summary JSON, Markdown, PNG)",
                     "activation-rm eval --pairs pairs.jsonl --criterion 'The response is correct.' --out my-eval",
                     "activation-rm eval --protocol full --rewardbench hub --model Qwen/Qwen2.5-1.5B-Instruct \\",
                     "    --out rb-full --shard seed0 --seeds 0")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(func=cmd_eval, interrupted=_eval_interrupted)
    build = _verb(sub, "build-preferencehack", "build the PreferenceHack reconstruction (bias and control splits) "
                                               "from RewardBench pairs",
                  "activation-rm build-preferencehack --rewardbench filtered.jsonl -o preferencehack.jsonl",
                  "activation-rm eval --preferencehack preferencehack.jsonl --out ph-eval")
    add_build_arguments(build)
    build.set_defaults(func=cmd_build_preferencehack)


def version_report() -> str:
    """``--version``: this package, torch and transformers, and the device (and dtype) ``--device auto`` picks."""
    from activation_rm.version import __version__

    lines = [f"activation-rm {__version__}"]
    try:
        import torch
        import transformers
    except ImportError as err:
        return "\n".join([*lines, f"(could not import {err.name}: {err})"])
    from activation_rm.model.backbone import default_dtype

    lines += [f"torch {torch.__version__}", f"transformers {transformers.__version__}"]
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        count = torch.cuda.device_count()
        device = f"cuda ({name}{f', {count} GPUs' if count > 1 else ''}; {str(default_dtype('cuda'))[6:]})"
    else:
        mps = getattr(torch.backends, "mps", None)
        extra = "; mps is available with --device mps" if mps is not None and mps.is_available() else ""
        device = f"cpu ({torch.get_num_threads()} threads; float32{extra})"
    return "\n".join([*lines, f"device {device}"])


class _VersionAction(argparse.Action):
    """``--version``: the versions and the device, importing torch and reading the package metadata only when
    asked (``--help`` stays fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS,
                 help: str = "print the versions of activation-rm, torch and transformers and the device --device "
                             "auto would use, then exit") -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(version_report(), flush=True)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="activation-rm", description=__doc__, formatter_class=HelpFormatter,
        epilog=examples("activation-rm demo",
                        "activation-rm fit benchmarks/data/alignment/short_correct_fewshot.jsonl --out my-arm \\",
                        "    --criterion 'A good response gives the correct answer in one short sentence.'",
                        "activation-rm score my-arm responses.jsonl -o scores.jsonl",
                        "activation-rm VERB --help    # every option of a verb, with its default and examples"))
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details (default: warnings only)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(VERBS) + "}")
    for add_subcommand in (_add_fit_parser, _add_score_parser, _add_compare_parser, _add_score_criteria_parser,
                           _add_best_of_n_parser, _add_inspect_parser, _add_demo_parser, _add_serve_parser,
                           _add_eval_parsers):
        add_subcommand(sub)
    return parser


#: the verbs, in the order of the help
VERBS = ("fit", "score", "compare", "score-criteria", "best-of-n", "inspect", "demo", "serve", "eval",
         "build-preferencehack")


def _quiet_exit(code: int) -> int:
    """After a closed pipe (``activation-rm inspect ART | head -1``): point stdout and stderr at /dev/null so the
    interpreter's last flush cannot fail again, and exit quietly."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):  # a replaced stream (tests) has no file descriptor
            pass
    os.close(devnull)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. A reader that goes away (``activation-rm inspect ART | head -1``) ends the command
    quietly: no traceback, exit 0 when the work was done, 1 when a scoring job was cut short (it keeps what it
    wrote, as after Ctrl-C)."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, not at interpreter exit, where a closed pipe can only be reported
    except BrokenPipeError:
        return _quiet_exit(0)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "score-criteria" or any(word.startswith("-") for word in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        # positionals after an option (ARTIFACT... -o OUT INPUT), which argparse leaves over after a nargs="+"
        args.artifacts += [*([args.input] if args.input else []), *extra]
        args.input = None
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
    except BrokenPipeError:
        job = getattr(args, "interrupted", None) in (_job_interrupted, _eval_interrupted)
        return _quiet_exit(1 if job else 0)


if __name__ == "__main__":
    sys.exit(main())
