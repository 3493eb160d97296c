"""Result tables in README.md and docs/*.md, generated from the files under results/.

A generated block sits between two marker comments in a Markdown file:

    <!-- gen:NAME -->
    ...table generated from results/...; edits here are overwritten...
    <!-- /gen:NAME -->

``python docs/gen_results.py`` rewrites every block from the current results files, so a rerun of a benchmark
updates the docs; ``python docs/gen_results.py --check`` changes nothing and exits 1 naming every block that is
stale (CI and ``tests/test_docs.py`` run it). ``--list`` prints the block names and their sources. No model or
torch is loaded (the scaling blocks use ``benchmarks/scaling.py`` and its paired test, numpy).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
#: the Markdown files that may hold generated blocks
TARGETS = ("README.md", "docs/*.md")
BLOCK = re.compile(r"(<!-- gen:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /gen:(?P=name) -->)", re.S)

METHOD_NAMES = {"zeroshot": "zero-shot P(Yes)", "icl": "in-context P(Yes)", "sav": "SAV head voting",
                "default": "Activation RM (defaults)"}
BASELINES = ("zeroshot", "icl", "sav")


# ----------------------------------------------------------------------------------------------- formatting
def _pct(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _p(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.2g}"


def _delta(vs: dict) -> str:
    """A paired difference as '+19.7 [+5, +34] (p=0.12)': points, 95% bootstrap CI, sign-test p."""
    if not vs:
        return ""
    return (f"{100 * vs['diff']:+.1f} [{100 * vs['low']:+.0f}, {100 * vs['high']:+.0f}] "
            f"({_p(vs['p_value'])})")


def _splits(entry: dict) -> tuple[float | None, float | None]:
    """Mean accuracy of the bias splits and of the control splits (pooled tasks average their tasks' splits)."""
    splits = entry["splits"]
    bias = [v for k, v in splits.items() if k == "bias" or k.endswith("/bias")]
    control = [v for k, v in splits.items() if k == "control" or k.endswith("/control")]
    return (sum(bias) / len(bias) if bias else None, sum(control) / len(control) if control else None)


def _cell(entry: dict, bold: bool = False) -> str:
    mean = f"**{_pct(entry['mean'])}**" if bold else _pct(entry["mean"])
    bias, control = _splits(entry)
    return mean if bias is None else f"{mean} ({bias:.0f} / {control:.0f})"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- sources
def _read(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


def _summary(rel: str) -> dict:
    return json.loads(_read(rel))["summary"]


def _task(rel: str, task: str) -> dict:
    summary = _summary(rel)
    if task not in summary:
        raise KeyError(f"{rel}: no task {task!r} (has {', '.join(summary)})")
    return summary[task]


def _seeds(entry: dict) -> str:
    seeds = entry["seeds"]
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds"


def _sections(rel: str, keep: Callable[[str], bool]) -> str:
    """The '#### ' sections of a summary.md whose heading passes ``keep``."""
    text, out = _read(rel), []
    for part in re.split(r"(?m)^(?=#### )", text):
        if part.startswith("#### ") and keep(part.splitlines()[0][5:]):
            out.append(part.strip())
    if not out:
        raise ValueError(f"{rel}: no section matched")
    return "\n\n".join(out)


def _whole(rel: str, drop_title: bool = False) -> str:
    text = _read(rel).strip()
    if drop_title and text.startswith("### "):
        text = text.split("\n", 1)[1].strip()
    return text


# ----------------------------------------------------------------------------------------------- blocks
STRICT = "results/accuracy-test/summary.json"
NATURAL = "results/scale/smollm135m-test-natural/summary.json"
BUNDLED = "results/accuracy-test-bundled/summary.json"
PH = "results/accuracy-test-ph/summary.json"
STRICT_05B = "results/scale/qwen0.5b-test-strict/summary.json"
NATURAL_05B = "results/scale/qwen0.5b-test-natural/summary.json"
PH_05B = "results/scale/qwen0.5b-test-ph/summary.json"


def headline() -> str:
    """README: one row per decider and backbone, test halves, library defaults ("–": that judge not measured there)."""
    rows = []
    spec = [
        ("SmolLM2-135M", "strict bias + control pairs, 3 cues (100 pairs per cue)", STRICT, "3 biases"),
        ("SmolLM2-135M", "natural-response bias + control pairs, 3 cues (80 pairs per cue)", NATURAL,
         "nat: 3 biases"),
        ("SmolLM2-135M", "PreferenceHack reconstruction, 3 cues pooled (real RewardBench responses, 180 pairs)", PH,
         "ph: 3 biases"),
        ("SmolLM2-135M", "bundled `short_correct` (40 held-out pairs)", BUNDLED, "short_correct"),
        ("SmolLM2-135M", "bundled `honest_not_flattering` (40 held-out pairs)", BUNDLED, "honest_not_flattering"),
        ("Qwen2.5-Coder-0.5B", "strict bias + control pairs, 3 cues", STRICT_05B, "3 biases"),
        ("Qwen2.5-Coder-0.5B", "natural-response bias + control pairs, 3 cues", NATURAL_05B, "nat: 3 biases"),
        ("Qwen2.5-Coder-0.5B", "PreferenceHack reconstruction, 3 cues pooled", PH_05B, "ph: 3 biases"),
        ("Qwen2.5-Coder-0.5B", "bundled `short_correct`", STRICT_05B, "short_correct"),
        ("Qwen2.5-Coder-0.5B", "bundled `honest_not_flattering`", STRICT_05B, "honest_not_flattering"),
    ]
    for backbone, label, rel, task in spec:
        methods = _task(rel, f"test|n10|noise0.0|{task}")
        arm = methods["default"]
        rows.append([backbone, label, _seeds(arm)]
                    + [_pct(methods[m]["mean"]) if m in methods else "–" for m in BASELINES]
                    + [f"**{_pct(arm['mean'])}**", _delta(arm["vs"].get("zeroshot"))])
    return _table(["backbone", "pair set (test half)", "seeds", "zero-shot P(Yes)", "in-context P(Yes)", "SAV",
                   "Activation RM", "ARM − zero-shot [95% CI]"], rows)


def ph_bundled(ph: str = PH, bundled: str | None = BUNDLED) -> str:
    """PreferenceHack (per bias and pooled) and the bundled criteria, each judge with its split accuracies; a task
    or judge the run does not have yet is named under the table, not filled in."""
    spec = [(ph, "ph-length", "PreferenceHack length"), (ph, "ph-format", "PreferenceHack format"),
            (ph, "ph-positivity", "PreferenceHack positivity"), (ph, "ph: 3 biases", "PreferenceHack, 3 biases pooled")]
    if bundled:
        spec += [(bundled, "short_correct", "bundled `short_correct`"),
                 (bundled, "honest_not_flattering", "bundled `honest_not_flattering`")]
    rows, missing = [], []
    for rel, task, label in spec:
        try:
            methods = _task(rel, f"test|n10|noise0.0|{task}")
        except (KeyError, FileNotFoundError):
            missing.append(label)
            continue
        arm = methods["default"]
        n = next(iter(arm["vs"].values()))["n"]
        rows.append([f"{label} ({n})", *[_cell(methods[m]) if m in methods else "–" for m in BASELINES],
                     _cell(arm, bold=True), *[_delta(arm["vs"].get(m)) for m in BASELINES],
                     ", ".join(map(str, arm["seeds"]))])
    table = _table(["task (evaluated pairs)", "zero-shot P(Yes)", "in-context P(Yes)", "SAV", "Activation RM",
                    "Δ vs zero-shot", "Δ vs in-context", "Δ vs SAV", "ARM seeds"], rows)
    return table + (f"\n\nNot measured yet: {', '.join(missing)}." if missing else "")


def fit_cost() -> str:
    """The fit-cost runs: before and after the averaging-context budget, timing and accuracy runs."""
    spec = [("before (equal shares of `max_length`)", "results/fit-cost-timing-before/fit_cost.json", "default"),
            ("after (`context_tokens=1152`, the default)", "results/fit-cost-timing-after/fit_cost.json", "default"),
            ("before, accuracy run", "results/fit-cost/fit_cost_before.json", "default"),
            ("after, accuracy run", "results/fit-cost-after/fit_cost.json", "ctx1152")]
    rows = []
    for label, rel, variant in spec:
        data = json.loads(_read(rel))
        r = data["results"][variant]
        accuracy = ""
        if "held_out_accuracy" in r:
            accuracy = (f"{100 * r['held_out_accuracy']:.1f}% (zero-shot {100 * r['zero_shot_accuracy']:.1f}%)")
        load = "-".join(f"{x:.1f}" for x in sorted(r["load_average"]))
        rows.append([label, f"{r['fit_seconds'] / 60:.1f} min ({r['fit_seconds']:.0f} s)",
                     f"{r['fit_cpu_seconds']:.0f} s", f"{r['means_seconds']:.0f} s", f"{r['selection_seconds']:.0f} s",
                     str(r["context_tokens_mean"]), accuracy, f"{data['threads']}, {load}"])
    return _table(["fit of 40 real-length pairs", "wall", "CPU", "means", "head selection",
                   "context tokens (mean)", f"held-out pair accuracy ({data['eval']})", "threads, load"], rows)


#: the scaling page's runs: task -> (label, billions of parameters, accuracy folders merged in order)
SCALE_RUNS = {
    "nat: 3 biases": [("SmolLM2-135M", 0.135, ("results/scale/smollm135m-test-natural",)),
                      ("Qwen2.5-Coder-0.5B", 0.494, ("results/scale/qwen0.5b-test-natural",)),
                      ("Qwen2.5-Coder-1.5B", 1.54, ("results/scale/qwen1.5b-test-natural",
                                                    "results/scale/qwen1.5b-test-zeroshot",
                                                    "results/scale/qwen1.5b-test-natural-arm"))],
    "3 biases": [("SmolLM2-135M", 0.135, ("results/accuracy-test",)),
                 ("Qwen2.5-Coder-0.5B", 0.494, ("results/scale/qwen0.5b-test-strict",)),
                 ("Qwen2.5-Coder-1.5B", 1.54, ("results/scale/qwen1.5b-test-strict",
                                               "results/scale/qwen1.5b-test-zeroshot"))],
}


@functools.cache
def _scaling_module():
    """benchmarks/scaling.py, loaded once (every scaling block uses it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("scaling_benchmark", ROOT / "benchmarks" / "scaling.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _scale_runs(task: str, need: str = "summary.json") -> list:
    """The task's runs as benchmarks/scaling.py Runs, each with only the folders that hold ``need``."""
    scaling = _scaling_module()
    runs = []
    for label, billions, folders in SCALE_RUNS[task]:
        present = tuple(ROOT / f for f in folders if (ROOT / f / need).exists())
        if present:
            runs.append(scaling.Run(label, billions, present))
    return runs


def scaling_table(task: str, parts: tuple[str, ...] = ()) -> str:
    """Pooled bias + control accuracy per method and backbone (benchmarks/scaling.py's table), then one table per
    part (a single bias) that some judge has on some backbone but not pooled yet; a backbone without the task is
    named, not shown."""
    scaling = _scaling_module()
    runs = _scale_runs(task)
    out = []
    pooled = {(method, p["run"]) for method, pts in scaling.points(runs, task).items() for p in pts}
    for name in (task, *parts):
        table = scaling.points(runs, name)
        have = [r for r in runs if any(p["run"] == r.label for pts in table.values() for p in pts)]
        if name != task and all((method, p["run"]) in pooled for method, pts in table.items() for p in pts):
            continue  # every judge that has this bias on a backbone has the pooled task there too
        missing = [label for label, _, _ in SCALE_RUNS[task] if label not in {r.label for r in have}]
        text = f"**{name}**\n\n" + (scaling.markdown(table, have) if have else "")
        if missing:
            text += f"\nNot measured yet on {name}: {', '.join(missing)}.\n"
        out.append(text)
    return "\n".join(out)


def scaling_versus() -> str:
    """The steered 0.5B judge against the unsteered 1.5B one, then steered against unsteered 1.5B, on the natural
    set's test pairs, per bias and pooled."""
    scaling = _scaling_module()
    runs = _scale_runs("nat: 3 biases", "rows.jsonl")
    lines = []
    for first, second in (("Qwen2.5-Coder-0.5B:default", "Qwen2.5-Coder-1.5B:zeroshot"),
                          ("Qwen2.5-Coder-1.5B:default", "Qwen2.5-Coder-1.5B:zeroshot")):
        for task in ("nat-length", "nat-format", "nat-positivity", "nat: 3 biases"):
            try:
                lines.append(f"- {scaling.versus(runs, first, second, task)}")
            except SystemExit as missing:
                lines.append(f"- {first} vs {second}, {task}: not measured ({missing})")
    return "\n".join(lines).replace(str(ROOT) + "/", "")


METHOD_DEV = "results/method/smollm135m-dev-natural"
#: the method-work variants and what each changes from the library defaults
METHOD_VARIANTS = {"savinit": "REINFORCE starts SAV's 20 best heads at logit 1 (`init=sav`)",
                   "savinit3": "the same at logit 3 (`init=sav,init_top_logit=3`)",
                   "ctx20": "20 averaging contexts instead of 60 (`n_contexts=20`)",
                   "shift": "the selected heads shifted, not replaced (`intervention=shift`)",
                   "shiftsav": "shifted, REINFORCE started from SAV's heads (`intervention=shift,init=sav`)",
                   "fast": "20 contexts, 4 queries per draw of demonstrations "
                           "(`n_contexts=20,queries_per_demo_set=4`: the 0.5B fit-cost setting)"}
METHOD_DEV_05B = "results/method/qwen0.5b-dev-natural"
METHOD_TEST = "results/method/smollm135m-test-natural-savinit"
METHOD_TEST_FAST = "results/method/smollm135m-test-natural-fast"
NATURAL_135M = "results/scale/smollm135m-test-natural"


def method_dev(folder: str = METHOD_DEV, label: str = "135M", billions: float = 0.135) -> str:
    """Each method-work variant that ``folder`` has against the defaults on the same dev pairs (pooled over the
    three cues, seeds averaged per pair), then the accuracy benchmark's own table."""
    scaling = _scaling_module()
    run = [scaling.Run(label, billions, (ROOT / folder,))]
    rows = [json.loads(line) for line in _read(f"{folder}/rows.jsonl").splitlines() if line.strip()]
    present = {row["method"] for row in rows}

    def line(name: str, what: str) -> str:
        try:
            versus = scaling.versus(run, f"{label}:{name}", f"{label}:default", "nat: 3 biases", tag="dev")
        except SystemExit:
            return f"- `{name}`, {what}: not measured yet"
        return f"- `{name}`, {what}: {versus.replace(label + ':', '')}"

    extra = {"sav": "SAV head voting (read, not steered)", "zeroshot": "zero-shot P(Yes) (no steering)"}
    lines = [line(name, what) for name, what in {**METHOD_VARIANTS, **extra}.items()
             if name in present and name != "default"]
    return "\n".join(lines) + "\n\n" + _whole(f"{folder}/summary.md")


def method_test() -> str:
    """The dev half's best variant confirmed once on the test half, and the same defaults at two commits that
    differ only in float rounding (the noise floor of a difference between two fits)."""
    scaling = _scaling_module()
    run = [scaling.Run("135M", 0.135, (ROOT / METHOD_TEST,))]
    confirm = scaling.versus(run, "135M:savinit", "135M:default", "nat: 3 biases").replace("135M:", "")
    rounding = [scaling.Run("this run", 0.135, (ROOT / METHOD_TEST,)),
                scaling.Run("the scaling run", 0.1351, (ROOT / NATURAL_135M,))]
    noise = scaling.versus(rounding, "this run:default", "the scaling run:default", "nat: 3 biases")
    fast_runs = [scaling.Run("fast", 0.135, (ROOT / METHOD_TEST_FAST,)), scaling.Run("defaults", 0.1351,
                                                                                     (ROOT / METHOD_TEST,))]
    try:
        fast = (scaling.versus(fast_runs, "fast:fast", "defaults:default", "nat: 3 biases")
                .replace("fast:", "").replace("defaults:", ""))
    except SystemExit as missing:
        fast = f"not complete ({missing})"
    return (f"- `savinit` against the defaults: {confirm}\n"
            f"- `fast` against the same defaults (`fast` run from 8e21d9d; the changes since cc6f51e left scores and the "
            f"demo's fit bitwise unchanged where checked): {fast}\n"
            f"- the defaults against themselves (commit cc6f51e against a584c14, where head selection's float "
            f"rounding differs): {noise.replace(':default', '')}\n\n" + _whole(f"{METHOD_TEST}/summary.md"))


FAST_TEST_05B = "results/method/qwen0.5b-test-natural-fast"


def method_test_05b() -> str:
    """``fast`` against the defaults on the 0.5B natural test half, over the seeds both have so far."""
    scaling = _scaling_module()
    runs = [scaling.Run("fast", 0.494, (ROOT / FAST_TEST_05B,)),
            scaling.Run("defaults", 0.4941, (ROOT / "results/scale/qwen0.5b-test-natural",))]
    line = scaling.versus(runs, "fast:fast", "defaults:default", "nat: 3 biases", same_seeds=True)
    return "- " + line.replace("fast:", "").replace("defaults:", "")


@dataclass(frozen=True)
class Block:
    sources: tuple[str, ...]
    render: Callable[[], str]


BLOCKS: dict[str, Block] = {
    "headline": Block((STRICT, NATURAL, PH, BUNDLED, STRICT_05B, NATURAL_05B, PH_05B), headline),
    "accuracy-test": Block(("results/accuracy-test/summary.md",),
                           lambda: _whole("results/accuracy-test/summary.md")),
    "accuracy-curves": Block(("results/accuracy-test-curves/summary.md",),
                             lambda: _sections("results/accuracy-test-curves/summary.md",
                                               lambda h: "few-shot pairs per split (" in h or "labels flipped (" in h)),
    "ph-bundled": Block((PH, BUNDLED), ph_bundled),
    "ph-bundled-0.5b": Block((PH_05B, STRICT_05B), lambda: ph_bundled(PH_05B, STRICT_05B)),
    "natural-135m": Block(("results/scale/smollm135m-test-natural/summary.md",),
                          lambda: _whole("results/scale/smollm135m-test-natural/summary.md")),
    "accuracy-dev": Block(("results/accuracy-dev/summary.md",), lambda: _whole("results/accuracy-dev/summary.md")),
    "fast": Block(("results/fast/results.md",), lambda: _whole("results/fast/results.md", drop_title=True)),
    "sweep": Block(("results/sweep/sweep.md",), lambda: _whole("results/sweep/sweep.md")),
    "best-of-n-short_correct": Block(("results/best-of-n/short_correct/summary.md",),
                                     lambda: _whole("results/best-of-n/short_correct/summary.md")),
    "best-of-n-no_markdown": Block(("results/best-of-n/no_markdown/summary.md",),
                                   lambda: _whole("results/best-of-n/no_markdown/summary.md")),
    "grpo-short_correct": Block(("results/alignment/short_correct/summary.md",),
                                lambda: _whole("results/alignment/short_correct/summary.md")),
    "grpo-multi": Block(("results/alignment/multi/summary.md",),
                        lambda: _whole("results/alignment/multi/summary.md")),
    "fit-cost": Block(("results/fit-cost-timing-before/fit_cost.json", "results/fit-cost-timing-after/fit_cost.json",
                       "results/fit-cost/fit_cost_before.json", "results/fit-cost-after/fit_cost.json"), fit_cost),
    "scaling-natural": Block(tuple(f"{f}/summary.json" for _, _, fs in SCALE_RUNS["nat: 3 biases"] for f in fs),
                             lambda: scaling_table("nat: 3 biases", ("nat-length", "nat-format", "nat-positivity"))),
    "scaling-strict": Block(tuple(f"{f}/summary.json" for _, _, fs in SCALE_RUNS["3 biases"] for f in fs),
                            lambda: scaling_table("3 biases", ("length", "format", "positivity"))),
    "method-dev-135m": Block((f"{METHOD_DEV}/rows.jsonl", f"{METHOD_DEV}/summary.md"), method_dev),
    "method-test-135m": Block((f"{METHOD_TEST}/rows.jsonl", f"{METHOD_TEST}/summary.md",
                               f"{NATURAL_135M}/rows.jsonl", f"{METHOD_TEST_FAST}/rows.jsonl"), method_test),
    "method-dev-0.5b": Block((f"{METHOD_DEV_05B}/rows.jsonl", f"{METHOD_DEV_05B}/summary.md"),
                             lambda: method_dev(METHOD_DEV_05B, "0.5B", 0.494)),
    "method-test-0.5b": Block((f"{FAST_TEST_05B}/rows.jsonl", "results/scale/qwen0.5b-test-natural/rows.jsonl"),
                              method_test_05b),
    "scaling-versus": Block(tuple(f"{f}/rows.jsonl" for _, _, fs in SCALE_RUNS["nat: 3 biases"][1:] for f in fs),
                            scaling_versus),
}


def render(name: str) -> str:
    block = BLOCKS[name]
    note = (f"<!-- generated by docs/gen_results.py from {', '.join(block.sources)}; "
            f"rerun it instead of editing -->")
    return f"{note}\n\n{_tidy(block.render())}\n\n"


def _tidy(text: str) -> str:
    """Stripped, with a blank line after every table so that a following line is not read as one of its rows."""
    lines = text.strip().split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("|") and following.strip() and not following.startswith("|"):
            out.append("")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------- files
def target_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for pattern in TARGETS:
        files += sorted(root.glob(pattern))
    return files


def regenerate(text: str, path: Path) -> tuple[str, list[str]]:
    """``text`` with every generated block rendered anew, and the names of the blocks that changed."""
    changed: list[str] = []

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in BLOCKS:
            raise SystemExit(f"{path}: unknown generated block {name!r} (known: {', '.join(BLOCKS)})")
        body = render(name)
        if body != match["body"]:
            changed.append(name)
        return f"{match[1]}{body}{match[4]}"

    return BLOCK.sub(replace, text), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any block is stale")
    parser.add_argument("--list", action="store_true", help="print each block's name and sources")
    args = parser.parse_args(argv)
    if args.list:
        for name, block in BLOCKS.items():
            print(f"{name}: {', '.join(block.sources)}")
        return 0
    stale: list[str] = []
    used: set[str] = set()
    for path in target_files():
        text = path.read_text(encoding="utf-8")
        used.update(m["name"] for m in BLOCK.finditer(text))
        new, changed = regenerate(text, path)
        rel = path.relative_to(ROOT)
        for name in changed:
            stale.append(f"{rel}: {name}")
        if changed and not args.check:
            path.write_text(new, encoding="utf-8")
    unused = sorted(set(BLOCKS) - used)
    if unused:
        print(f"warning: blocks not placed in any file: {', '.join(unused)}", file=sys.stderr)
    if args.check:
        if stale:
            print("stale generated blocks (run python docs/gen_results.py):\n  " + "\n  ".join(stale),
                  file=sys.stderr)
            return 1
        print("generated blocks are up to date")
        return 0
    print("updated:\n  " + "\n  ".join(stale) if stale else "nothing to update")
    return 0


if __name__ == "__main__":
    sys.exit(main())
