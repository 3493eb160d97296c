from tiny import tiny_backbone

from activation_rm.apps.demo import run_demo
from activation_rm.eval.stats import paired_test


def test_demo_table_reports_both_judges_and_their_paired_difference():
    result = run_demo(tiny_backbone("llama"), "honest_not_flattering", seed=1, steps=3, progress=False,
                      n_contexts=3, n_shots=1, masks_per_step=4, final_samples=2, max_length=256)
    arm, zero = result.rows
    assert len(arm.pair_correct) == len(zero.pair_correct) == result.n_held_out
    assert arm.pair_accuracy == sum(c == 1.0 for c in arm.pair_correct) / result.n_held_out
    test = paired_test(arm.pair_correct, zero.pair_correct)
    table = result.table()
    assert "Activation RM minus zero-shot P(Yes)" in table
    assert f"{100 * test.diff:+.1f} points" in table and f"worse on {test.losses}" in table


def test_an_unknown_bundled_criterion_is_refused_before_any_fit():
    import pytest

    from activation_rm.inputs.checks import ConfigError

    with pytest.raises(ConfigError, match="demo.criterion must be one of honest_not_flattering, short_correct, "
                                          "got 'nope'"):
        run_demo(None, "nope")  # no backbone is touched
