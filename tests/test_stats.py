import math

import numpy as np
import pytest
from bootstrap_reference import (
    bootstrap_counts_f1_ci,
    paired_bootstrap_counts_f1_diff,
    paired_bootstrap_diff,
)

from elmtex.config import ConfigError
from elmtex.stats import bootstrap_ci, bootstrap_mean_ci, poisson_weights

# Small, fixed data: every test here runs in milliseconds.
VALUES = [0.2, 0.9, 0.5, 0.7, 0.1, 0.8, 0.4, 0.6, 0.3, 1.0]
COUNTS = [(2, 1, 0), (0, 0, 1), (3, 0, 2), (1, 2, 1), (0, 0, 0), (4, 1, 0)]


def py_mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def py_micro_f1(rows):
    tp, fp, fn = (sum(r[k] for r in rows) for k in range(3))
    return 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None


def py_quantile(sorted_xs, q):
    """numpy's default ('linear') quantile, by hand."""
    h = (len(sorted_xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (h - lo) * (sorted_xs[hi] - sorted_xs[lo])


def resamples(records, n_boot, seed, keys=None):
    """Each resample as a list: record i repeated by its Poisson weight."""
    keys = range(len(records)) if keys is None else keys
    for row in poisson_weights(list(keys), n_boot, seed).astype(int).tolist():
        yield [r for r, times in zip(records, row, strict=True) for _ in range(times)]


def py_bootstrap(records, stat, n_boot, seed, alpha=0.05, keys=None):
    """Pure-Python reference on the same weights."""
    boot = []
    for resample in resamples(records, n_boot, seed, keys):
        s = stat(resample) if resample else None
        if s is not None:
            boot.append(s)
    boot.sort()
    return stat(records), py_quantile(boot, alpha / 2), py_quantile(boot, 1 - alpha / 2), boot


def test_mean_ci_contains_estimate_and_is_deterministic():
    r = bootstrap_mean_ci(np.array(VALUES), n_boot=500, seed=7)
    assert r["n"] == 10
    assert r["value"] == pytest.approx(0.55)
    assert r["low"] < r["value"] < r["high"]
    assert bootstrap_mean_ci(np.array(VALUES), n_boot=500, seed=7) == r
    other = bootstrap_mean_ci(np.array(VALUES), n_boot=500, seed=8)
    assert other["value"] == r["value"]
    assert (other["low"], other["high"]) != (r["low"], r["high"])


def test_ci_shrinks_with_more_data():
    small = bootstrap_mean_ci(np.array(VALUES), n_boot=500, seed=1)
    large = bootstrap_mean_ci(np.array(VALUES * 10), n_boot=500, seed=1)
    assert large["high"] - large["low"] < (small["high"] - small["low"]) / 2


def test_constant_gives_degenerate_ci():
    r = bootstrap_mean_ci(np.full(7, 0.5), n_boot=200)
    assert (r["value"], r["low"], r["high"]) == (0.5, 0.5, 0.5)
    r = bootstrap_mean_ci(np.full(7, 0.1), n_boot=200)
    assert r["low"] == pytest.approx(0.1) and r["high"] == pytest.approx(0.1)


def test_missing_and_empty():
    assert bootstrap_mean_ci(np.array([])) == {"value": None, "low": None, "high": None, "n": 0}
    assert bootstrap_mean_ci(np.array([np.nan, np.nan]))["value"] is None
    # a missing record counts 0 and leaves the others' weights (keyed by position) as they were
    with_nan = bootstrap_mean_ci(np.array([np.nan, *VALUES, np.nan]), n_boot=300, seed=3)
    assert with_nan == bootstrap_mean_ci(
        np.array(VALUES), n_boot=300, seed=3, keys=np.arange(1, 11)
    )
    assert bootstrap_ci([], py_mean)["value"] is None
    assert bootstrap_ci([None, None], py_mean)["n"] == 0
    assert bootstrap_counts_f1_ci(np.zeros((0, 3)))["value"] is None
    assert bootstrap_counts_f1_ci(np.zeros((4, 3)))["value"] is None  # no entities at all
    assert paired_bootstrap_diff([np.nan], [1.0])["diff"] is None
    with pytest.raises(ConfigError):
        bootstrap_mean_ci(np.array(VALUES), n_boot=0)
    with pytest.raises(ConfigError):
        bootstrap_mean_ci(np.array(VALUES), alpha=1.5)


def test_vectorised_mean_equals_reference():
    values = [0.3, None, 0.8, 0.1, 0.5, 0.9]
    present = [v for v in values if v is not None]
    value, low, high, _ = py_bootstrap(present, py_mean, n_boot=50, seed=11, keys=[0, 2, 3, 4, 5])
    fast = bootstrap_mean_ci(
        np.array([np.nan if v is None else v for v in values]), n_boot=50, seed=11
    )
    generic = bootstrap_ci(values, py_mean, n_boot=50, seed=11)
    for r in (fast, generic):
        assert r["n"] == 5
        assert r["value"] == pytest.approx(value)
        assert r["low"] == pytest.approx(low)
        assert r["high"] == pytest.approx(high)


def test_vectorised_counts_f1_equals_reference():
    value, low, high, _ = py_bootstrap(COUNTS, py_micro_f1, n_boot=50, seed=5)
    # micro F1 of the sums: tp 10, fp 4, fn 4 -> 20 / 28
    assert value == pytest.approx(20 / 28)
    fast = bootstrap_counts_f1_ci(np.array(COUNTS), n_boot=50, seed=5)
    generic = bootstrap_ci(COUNTS, py_micro_f1, n_boot=50, seed=5)
    for r in (fast, generic):
        assert r["value"] == pytest.approx(value)
        assert (r["low"], r["high"]) == (pytest.approx(low), pytest.approx(high))
        assert r["low"] <= r["value"] <= r["high"]


def test_paired_diff_of_identical_runs_is_zero():
    r = paired_bootstrap_diff(np.array(VALUES), np.array(VALUES), n_boot=200)
    assert (r["diff"], r["low"], r["high"], r["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    r = paired_bootstrap_counts_f1_diff(np.array(COUNTS), np.array(COUNTS), n_boot=200)
    assert (r["diff"], r["low"], r["high"], r["p_value"]) == (0.0, 0.0, 0.0, 1.0)


def test_paired_diff_detects_a_better_run():
    a = np.array(VALUES * 3)
    b = a + 0.1 + 0.02 * np.sin(np.arange(a.size))  # better on every record
    r = paired_bootstrap_diff(a, b, n_boot=500, seed=2)
    assert r["diff"] == pytest.approx(np.mean(b) - np.mean(a))
    assert 0 < r["low"] <= r["diff"] <= r["high"]
    assert r["p_value"] < 0.01
    # the sign follows b - a
    back = paired_bootstrap_diff(b, a, n_boot=500, seed=2)
    assert back["high"] < 0 and back["diff"] == pytest.approx(-r["diff"])


def test_paired_diff_drops_records_missing_in_either_run():
    a = np.array([0.1, np.nan, 0.5, 0.4, 0.2])
    b = np.array([0.3, 0.9, np.nan, 0.6, 0.1])
    r = paired_bootstrap_diff(a, b, n_boot=100, seed=4)
    assert r["n"] == 3
    assert r["diff"] == pytest.approx((0.3 + 0.6 + 0.1) / 3 - (0.1 + 0.4 + 0.2) / 3)
    assert r == paired_bootstrap_diff(
        a[[0, 3, 4]], b[[0, 3, 4]], n_boot=100, seed=4, keys=[0, 3, 4]
    )


def test_paired_counts_diff_equals_reference():
    a = np.array(COUNTS)
    b = a.copy()
    b[:, 0] += 1  # one more true positive per record
    r = paired_bootstrap_counts_f1_diff(a, b, n_boot=50, seed=9)
    ref = []
    for ra, rb in zip(resamples(a.tolist(), 50, 9), resamples(b.tolist(), 50, 9), strict=True):
        fa, fb = py_micro_f1(ra), py_micro_f1(rb)
        if fa is not None and fb is not None:
            ref.append(fb - fa)
    ref.sort()
    assert r["diff"] == pytest.approx(py_micro_f1(b.tolist()) - py_micro_f1(a.tolist()))
    assert r["low"] == pytest.approx(py_quantile(ref, 0.025))
    assert r["high"] == pytest.approx(py_quantile(ref, 0.975))
    assert r["p_value"] == pytest.approx(min(1.0, 2 * sum(d <= 0 for d in ref) / len(ref)))
    assert r["low"] > 0


def test_poisson_weights():
    w = poisson_weights(np.arange(20000), 200, seed=1)
    assert w.shape == (200, 20000)
    assert w.mean() == pytest.approx(1.0, abs=0.01) and w.var() == pytest.approx(1.0, abs=0.02)
    assert (w >= 0).all() and (w == np.round(w)).all()
    # P(0) = P(1) = 1/e for Poisson(1)
    assert np.mean(w == 0) == pytest.approx(math.exp(-1), abs=0.005)
    assert np.mean(w == 1) == pytest.approx(math.exp(-1), abs=0.005)
    # a record's weights depend on its key and the seed, not on the other records
    keys = np.array([7, 123456789, 2**63 + 5], dtype=np.uint64)
    alone = poisson_weights(keys[1:2], 50, seed=3)
    np.testing.assert_array_equal(poisson_weights(keys, 50, seed=3)[:, 1:2], alone)
    assert not np.array_equal(poisson_weights(keys, 50, seed=4), poisson_weights(keys, 50, 3))
    # resamples are nearly uncorrelated with each other
    assert abs(np.corrcoef(w[0], w[1])[0, 1]) < 0.05


def test_poisson_intervals_match_the_classical_bootstrap():
    """For a mean of 400 values the Poisson bootstrap's interval is the classical one's (n
    draws with replacement) within Monte Carlo error."""
    rng = np.random.default_rng(0)
    v = rng.exponential(size=400)
    r = bootstrap_mean_ci(v, n_boot=2000, seed=5)
    idx = rng.integers(0, v.size, size=(2000, v.size))
    low, high = np.quantile(v[idx].mean(axis=1), [0.025, 0.975])
    width = high - low
    assert r["low"] == pytest.approx(low, abs=0.06 * width)
    assert r["high"] == pytest.approx(high, abs=0.06 * width)
