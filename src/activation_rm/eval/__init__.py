"""Evaluation (stage 7): benchmarks, baselines, statistics and reports for Activation RMs."""
