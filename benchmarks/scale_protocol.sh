#!/usr/bin/env bash
# The scale protocol (test halves, library defaults), as one resumable queue: every run appends its rows to
# results/scale/<run>/rows.jsonl as they finish and skips what is there, so a stopped queue loses at most the fit
# in progress. Seed-major: each finished seed is a complete result for every task of its run.
#
#   bash benchmarks/scale_protocol.sh [JOBS...]      # default: every job below, in this order
#
# Run it from a fixed commit (a git worktree) so a long queue measures one version of the code:
#   git worktree add /tmp/scale HEAD && cd /tmp/scale && PYTHONPATH=src OUT=$PWD/results/scale bash benchmarks/scale_protocol.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/scale}
SEEDS=${SEEDS:-"0 1 2 3 4"}
THREADS=${THREADS:-1}
run() {  # run NAME BACKBONE ARGS... (once per seed)
  local name=$1 backbone=$2
  shift 2
  for seed in $SEEDS; do
    python benchmarks/accuracy.py --half test --seeds "$seed" --threads "$THREADS" --out "$OUT/$name" \
      ${backbone:+--backbone "$backbone"} "$@"
  done
}
jobs=("$@")
[ ${#jobs[@]} -eq 0 ] && jobs=(nat135 strict05 nat05 zeroshot15 ph05 nat15)
for job in "${jobs[@]}"; do
  case "$job" in
    nat135) run smollm135m-test-natural "" --sets natural ;;
    strict05) run qwen0.5b-test-strict qwen2.5-coder-0.5b --sets own bundled ;;
    nat05) run qwen0.5b-test-natural qwen2.5-coder-0.5b --sets natural ;;
    ph05) run qwen0.5b-test-ph qwen2.5-coder-0.5b --sets preferencehack ;;
    zeroshot15) SEEDS=0 run qwen1.5b-test-zeroshot qwen2.5-coder-1.5b --sets own natural --variants --baselines zeroshot ;;
    nat15) run qwen1.5b-test-natural qwen2.5-coder-1.5b --sets natural ;;
    style05) python benchmarks/accuracy.py --half test --style-matched --threads "$THREADS" \
               --backbone qwen2.5-coder-0.5b --out "$OUT/qwen0.5b-test-strict" ;;
    *) echo "unknown job $job" >&2; exit 2 ;;
  esac
done
