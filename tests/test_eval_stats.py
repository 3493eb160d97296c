import math

import numpy as np
import pytest

from activation_rm.eval.stats import (
    bootstrap_ci,
    mean_ci,
    paired_test,
    per_item_means,
    rewardbench_ci,
    rewardbench_scores,
    sign_test,
)


def test_sign_test_matches_binomial():
    # 9 wins, 1 loss: two-sided p = 2 * (C(10,0) + C(10,1)) / 2^10
    assert sign_test(9, 1) == pytest.approx(2 * (1 + 10) / 1024)
    assert sign_test(0, 0) == 1.0
    assert sign_test(5, 5) == 1.0


def test_mean_ci_brackets_the_mean_and_narrows_with_n():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 2, 20).astype(float)
    large = rng.integers(0, 2, 2000).astype(float)
    m, lo, hi = mean_ci(small)
    assert lo <= m <= hi
    _, lo2, hi2 = mean_ci(large)
    assert (hi2 - lo2) < (hi - lo)


def test_bootstrap_is_seeded_and_stratified():
    x = np.array([1.0] * 10 + [0.0] * 10)
    strata = ["a"] * 10 + ["b"] * 10
    # within-stratum resampling keeps each stratum's composition: the mean cannot move
    assert bootstrap_ci(20, lambda idx: float(x[idx].mean()), strata=strata) == (0.5, 0.5)
    a = bootstrap_ci(20, lambda idx: float(x[idx].mean()), seed=3)
    assert a == bootstrap_ci(20, lambda idx: float(x[idx].mean()), seed=3)
    assert a[0] < 0.5 < a[1]


def test_paired_test_counts_wins_and_interval():
    a = [1, 1, 1, 1, 0.5, 0, 1, 1]
    b = [0, 0, 1, 0, 0.5, 0, 0, 0]
    result = paired_test(a, b)
    assert (result.wins, result.losses, result.n) == (5, 0, 8)
    assert result.diff == pytest.approx(5 / 8)
    assert result.low > 0
    assert result.p_value == pytest.approx(sign_test(5, 0))
    with pytest.raises(ValueError):
        paired_test([1, 0], [1])


def test_rewardbench_official_weighting():
    # Reasoning: math-prm counts 984, one hep subset 164 -> (984*1 + 164*0)/(1148)
    correct = [1, 1, 0, 0, 1, 0]
    subsets = ["math-prm", "math-prm", "hep-go", "hep-go", "alpacaeval-easy", "alpacaeval-hard"]
    scores = rewardbench_scores(correct, subsets)
    assert scores["Reasoning"] == pytest.approx(984 / 1148)
    assert scores["Chat"] == pytest.approx(100 / 195)
    assert scores["Overall"] == pytest.approx((scores["Reasoning"] + scores["Chat"]) / 2)
    assert "Safety" not in scores
    cis = rewardbench_ci(correct, subsets, n_boot=200)
    for key, (value, low, high) in cis.items():
        assert low <= value + 1e-9 and value <= high + 1e-9, key
        assert not math.isnan(low)


def test_per_item_means_average_seeds():
    rows = [{"method": "m", "key": "k", "correct": 1, "seed": 0}, {"method": "m", "key": "k", "correct": 0, "seed": 1}]
    assert per_item_means(rows) == {"m": {"k": 0.5}}


def test_rewardbench_interval_is_not_degenerate_with_one_item_per_subset():
    subsets = ["alpacaeval-hard", "alpacaeval-length", "mt-bench-easy", "mt-bench-med", "llmbar-natural",
               "llmbar-adver-manual"]
    cis = rewardbench_ci([1, 0, 1, 0, 1, 0], subsets, n_boot=300)
    value, low, high = cis["Overall"]
    assert low < value < high
