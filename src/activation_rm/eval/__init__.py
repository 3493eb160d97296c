"""Evaluation: benchmarks, baselines, statistics and reports for Activation RMs."""
