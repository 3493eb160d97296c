"""Build ``natural_pairs.jsonl``: bias + control pairs whose two responses were written independently.

Why a second decider: in ``bias_pairs.jsonl`` (the strict set) the two responses of a pair are word-for-word
identical except the answer, so it measures whether steering adds *correctness* signal, and on a small backbone
that is bounded by what the backbone knows. Real responses differ in wording, structure and detail. Here every
response of a question was written on its own, in its own words, so a pair differs the way two real answers do,
and the surface cue is still controlled: in a ``bias`` pair the WRONG response carries the cue (length, markdown
format or warm flattery), in its ``control`` pair the CORRECT one does. A judge that follows the cue wins one
split and loses the other; one that checks correctness wins both.

Content lives in ``natural_content_*.py`` beside this file (hand-written for this project from scratch: no
external data set, web text or model output): per question ten responses, a correct and a wrong one of each
style. This script pairs them, splits the questions into a dev and a test half (seeded, balanced by kind),
checks every rule below and writes the file atomically, one JSON object per line, sorted by id. It is
deterministic; ``--check`` compares the file on disk with a fresh build.

Pairs per question (``chosen`` is always the correct response):

| bias | split | chosen | rejected |
|---|---|---|---|
| length | bias | short_correct | long_wrong |
| length | control | long_correct | short_wrong |
| format | bias | plain_correct | markdown_wrong |
| format | control | markdown_correct | plain_wrong |
| positivity | bias | plain_correct | warm_wrong |
| positivity | control | warm_correct | plain_wrong |
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_PATH = HERE / "natural_pairs.jsonl"
CONTENT_FILES = sorted(HERE.glob("natural_content_*.py"))
STRICT_SET = HERE / "bias_pairs.jsonl"
EXAMPLES_DIR = HERE.parents[1] / "src" / "activation_rm" / "apps" / "criteria"
SEED = "natural-2026"

STYLES = ("short", "long", "plain", "markdown", "warm")
FIELDS = ("qid", "kind", "prompt") + tuple(f"{s}_{v}" for s in STYLES for v in ("correct", "wrong"))
PAIRS = {  # (bias, split) -> (chosen field, rejected field)
    ("length", "bias"): ("short_correct", "long_wrong"),
    ("length", "control"): ("long_correct", "short_wrong"),
    ("format", "bias"): ("plain_correct", "markdown_wrong"),
    ("format", "control"): ("markdown_correct", "plain_wrong"),
    ("positivity", "bias"): ("plain_correct", "warm_wrong"),
    ("positivity", "control"): ("warm_correct", "plain_wrong"),
}
MARKDOWN = re.compile(r"(^|\n)\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|\|)|\*\*|__|`")
WARM_WORDS = re.compile(r"\b(great question|happy to help|delighted|glad you asked|you're|you are|amazing|wonderful"
                        r"|fantastic|love that|hope this helps)\b", re.IGNORECASE)


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9]+", text))


def load_questions(files: Sequence[Path] = CONTENT_FILES) -> list[dict[str, str]]:
    """Every ``QUESTIONS`` entry of the content files, in file order."""
    questions: list[dict[str, str]] = []
    for path in files:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        questions += [dict(q) for q in module.QUESTIONS]
    return questions


def validate(questions: Sequence[dict[str, str]]) -> list[str]:
    """Every rule the set promises, as a list of problems (empty when the content is sound)."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_prompts: set[str] = set()
    strict_prompts = set()
    if STRICT_SET.exists():
        strict_prompts = {json.loads(line)["prompt"].strip().lower() for line in STRICT_SET.read_text().splitlines()
                          if line.strip()}
    bundled_prompts = set()
    for path in EXAMPLES_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                prompt = json.loads(line).get("prompt")
                if isinstance(prompt, str):
                    bundled_prompts.add(prompt.strip().lower())
    for q in questions:
        where = q.get("qid", "?")
        missing = [f for f in FIELDS if not isinstance(q.get(f), str) or not q[f].strip()]
        extra = sorted(set(q) - set(FIELDS))
        if missing or extra:
            problems.append(f"{where}: missing or empty {missing}, unknown {extra}")
            continue
        if where in seen_ids:
            problems.append(f"{where}: duplicate qid")
        seen_ids.add(where)
        prompt = q["prompt"].strip().lower()
        if prompt in seen_prompts:
            problems.append(f"{where}: duplicate prompt")
        if prompt in strict_prompts or prompt in bundled_prompts:
            problems.append(f"{where}: prompt also in the strict set or a bundled example set")
        seen_prompts.add(prompt)
        n = {f: words(q[f]) for f in FIELDS[3:]}
        for style in ("short", "long", "plain", "warm"):
            for v in ("correct", "wrong"):
                if MARKDOWN.search(q[f"{style}_{v}"]):
                    problems.append(f"{where}: {style}_{v} has markdown")
        for style in ("short", "long", "plain", "markdown"):
            for v in ("correct", "wrong"):
                if WARM_WORDS.search(q[f"{style}_{v}"]):
                    problems.append(f"{where}: {style}_{v} has warm/flattering words")
        for v in ("correct", "wrong"):
            if not MARKDOWN.search(q[f"markdown_{v}"]):
                problems.append(f"{where}: markdown_{v} has no markdown")
            if not WARM_WORDS.search(q[f"warm_{v}"]):
                problems.append(f"{where}: warm_{v} has no warm/flattering phrase (see WARM_WORDS)")
            if not 3 <= n[f"short_{v}"] <= 30:
                problems.append(f"{where}: short_{v} has {n[f'short_{v}']} words (3-30)")
            if not 60 <= n[f"long_{v}"] <= 180:
                problems.append(f"{where}: long_{v} has {n[f'long_{v}']} words (60-180)")
        for (bias, split), (chosen, rejected) in PAIRS.items():
            a, b = n[chosen], n[rejected]
            if bias == "length" and max(a, b) < 3 * min(a, b):
                problems.append(f"{where}: {bias}/{split} long side has {max(a, b)} words, < 3x the short {min(a, b)}")
            if bias != "length" and max(a, b) > 1.5 * min(a, b):
                problems.append(f"{where}: {bias}/{split} word counts {a} vs {b} differ by more than 1.5x")
        if q["short_correct"] == q["short_wrong"] or q["plain_correct"] == q["plain_wrong"]:
            problems.append(f"{where}: correct and wrong responses are identical")
    return problems


def assign_halves(questions: Sequence[dict[str, str]]) -> dict[str, str]:
    """Half of each kind's questions to dev, half to test (seeded shuffle per kind)."""
    by_kind: dict[str, list[str]] = {}
    for q in questions:
        by_kind.setdefault(q["kind"], []).append(q["qid"])
    half = {}
    for kind, ids in sorted(by_kind.items()):
        ids = sorted(ids)
        random.Random(f"{SEED}/{kind}").shuffle(ids)
        for i, qid in enumerate(ids):
            half[qid] = "dev" if i % 2 == 0 else "test"
    return half


def build_records(questions: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    half = assign_halves(questions)
    records = []
    for q in questions:
        for (bias, split), (chosen, rejected) in PAIRS.items():
            records.append({"id": f"{bias}-{split}-{q['qid']}", "question_id": q["qid"], "kind": q["kind"],
                            "bias": bias, "split": split, "half": half[q["qid"]], "prompt": q["prompt"],
                            "chosen": q[chosen], "rejected": q[rejected]})
    return sorted(records, key=lambda r: r["id"])


def serialize(records: Sequence[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_atomic(path: Path, text: str) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare the file on disk with a fresh build")
    parser.add_argument("--validate-only", action="store_true", help="check the content files, write nothing")
    parser.add_argument("--files", nargs="+", type=Path, default=CONTENT_FILES, help="content files to read")
    args = parser.parse_args(argv)
    questions = load_questions(args.files)
    problems = validate(questions)
    if problems:
        print(f"{len(problems)} problems:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    records = build_records(questions)
    text = serialize(records)
    counts = Counter((r["half"], r["kind"]) for r in records if r["bias"] == "length" and r["split"] == "bias")
    print(f"{len(questions)} questions, {len(records)} pairs; questions per (half, kind): {dict(sorted(counts.items()))}")
    if args.validate_only:
        return 0
    if args.check:
        if not OUT_PATH.exists() or OUT_PATH.read_text(encoding="utf-8") != text:
            print(f"{OUT_PATH} differs from a fresh build: run this script", file=sys.stderr)
            return 1
        return 0
    write_atomic(OUT_PATH, text)
    print(f"wrote {OUT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
