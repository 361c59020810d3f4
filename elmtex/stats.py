"""Seeded bootstrap confidence intervals and paired comparisons of runs.

Rules (the same in every function):
- The unit of resampling is the RECORD: n records are drawn with replacement, n_boot times,
  from `numpy.random.default_rng(seed)` through `resample_indices` (one (n_boot, n) index
  matrix; the vectorised functions draw the same matrix block by block), so a seed gives the
  same resamples in the generic and the vectorised functions.
- Missing records are dropped BEFORE resampling: None in `bootstrap_ci`, nan in the numpy
  functions; in paired comparisons a record missing in either run is dropped from both. `n`
  is the number of records that remain.
- The interval is the percentile interval: the alpha/2 and 1 - alpha/2 quantiles of the
  resampled statistic (numpy's default linear interpolation). Resamples on which the
  statistic is undefined (None or nan, e.g. a micro F1 with no entities at all) are left out
  of the quantiles.
- Micro F1 from per-record counts (tp, fp, fn) is 2TP/(2TP+FP+FN) of the summed counts, as in
  `elmtex.entities.MatchCounts`; undefined when all three sums are 0.
- Paired differences are b - a (b = the compared run, a = the baseline), with the same
  resample indices for both runs. The p-value is two-sided: twice the fraction of resampled
  differences on the other side of 0 from the observed one (0 itself counts as the other
  side), capped at 1; 1.0 when the observed difference is 0. Its resolution is 1/n_boot: 0.0
  means "below 2/n_boot".
- No records (or only missing ones), or an undefined point estimate, give None for every value.
- Macro averages take an (n, F) matrix of per-record, per-category values (nan where a
  category is not scored for a record, e.g. gold N/A): the statistic is the mean over
  categories of each category's mean over the records where it is scored (categories scored
  nowhere on a resample are left out). Macro F1 takes (n, F, 3) counts: the mean over
  categories of each category's micro F1. For these a record is missing only when ALL its
  values are nan (e.g. a skipped unparseable answer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from elmtex.config import ConfigError

# Resampled statistics are computed in blocks of rows so the temporary (block, n) arrays stay
# small whatever n_boot is.
_BLOCK_ELEMENTS = 1 << 21


def _check(n_boot: int, alpha: float) -> None:
    if int(n_boot) != n_boot or n_boot < 1:
        raise ConfigError(f"n_boot must be a positive integer, got {n_boot!r}.")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha!r}.")


def resample_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """The (n_boot, n) matrix of record indices every bootstrap in this module uses."""
    return np.random.default_rng(seed).integers(0, n, size=(int(n_boot), n))


class _Resamples:
    """`resample_indices(n, n_boot, seed)`, drawn block by block when used and never held
    whole: 1,000 resamples of 60,000 records would be 480 MB of indices. Successive draws from
    one generator give the same numbers as one big draw, so the resamples are the same."""

    def __init__(self, n: int, n_boot: int, seed: int):
        self.shape = (int(n_boot), int(n))
        self.seed = seed

    def blocks(self, per_record: int):
        """(rows, index block) in order, each block of at most _BLOCK_ELEMENTS values."""
        n_boot, n = self.shape
        rng = np.random.default_rng(self.seed)  # afresh per pass: paired runs get the same
        for rows in _blocks(n_boot, n * per_record):
            yield rows, rng.integers(0, n, size=(rows.stop - rows.start, n))


def _interval(boot: np.ndarray, alpha: float) -> tuple[float | None, float | None]:
    boot = boot[~np.isnan(boot)]
    if boot.size == 0:
        return None, None
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _blocks(n_boot: int, n: int):
    step = max(1, _BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, n_boot, step):
        yield slice(start, min(start + step, n_boot))


def _none_ci(n: int) -> dict[str, Any]:
    return {"value": None, "low": None, "high": None, "n": n}


def bootstrap_ci(per_record: Sequence, statistic: Callable[[list], float | None],
                 n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05) -> dict[str, Any]:
    """Percentile CI of any statistic of a list of per-record items (generic, slow path).

    `statistic` receives a list of records (the resample, duplicates included) and returns a
    float or None. Records that are None are dropped first.
    """
    _check(n_boot, alpha)
    records = [r for r in per_record if r is not None]
    n = len(records)
    if n == 0:
        return _none_ci(0)
    value = statistic(records)
    if value is None:
        return _none_ci(n)
    boot = np.full(int(n_boot), np.nan)
    for b, row in enumerate(resample_indices(n, n_boot, seed)):
        s = statistic([records[i] for i in row])
        if s is not None:
            boot[b] = s
    low, high = _interval(boot, alpha)
    return {"value": float(value), "low": low, "high": high, "n": n}


def _as_values(values) -> np.ndarray:
    v = np.asarray(values, dtype=float).reshape(-1)
    return v[~np.isnan(v)]


def _boot_means(values: np.ndarray, idx: _Resamples) -> np.ndarray:
    return _resampled(lambda x: x.mean(axis=1), values, idx)


def bootstrap_mean_ci(values, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05,
                      ) -> dict[str, Any]:
    """Percentile CI of a mean of per-record values (nan = missing, dropped first)."""
    _check(n_boot, alpha)
    v = _as_values(values)
    if v.size == 0:
        return _none_ci(0)
    boot = _boot_means(v, _Resamples(v.size, n_boot, seed))
    low, high = _interval(boot, alpha)
    return {"value": float(v.mean()), "low": low, "high": high, "n": int(v.size)}


def _as_counts(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.size == 0:
        return c.reshape(0, 3)
    if c.ndim != 2 or c.shape[1] != 3:
        raise ValueError(f"counts must have shape (n, 3) for tp, fp, fn; got {c.shape}")
    return c


def _f1(summed: np.ndarray) -> np.ndarray:
    """Micro F1 of rows of summed (tp, fp, fn); nan where there is nothing to score."""
    tp, fp, fn = summed[..., 0], summed[..., 1], summed[..., 2]
    denominator = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1),
                        np.nan)


def _boot_f1(counts: np.ndarray, idx: _Resamples) -> np.ndarray:
    return _resampled(lambda x: _f1(x.sum(axis=1)), counts, idx)


def bootstrap_counts_f1_ci(counts, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05,
                           ) -> dict[str, Any]:
    """Percentile CI of micro F1 from per-record (tp, fp, fn) rows (a row with a nan is
    missing and dropped first)."""
    _check(n_boot, alpha)
    c = _as_counts(counts)
    c = c[~np.isnan(c).any(axis=1)]
    n = c.shape[0]
    if n == 0:
        return _none_ci(0)
    value = float(_f1(c.sum(axis=0)))
    if np.isnan(value):
        return _none_ci(n)
    low, high = _interval(_boot_f1(c, _Resamples(n, n_boot, seed)), alpha)
    return {"value": value, "low": low, "high": high, "n": n}


def _p_value(diff: float, boot: np.ndarray) -> float:
    boot = boot[~np.isnan(boot)]
    if diff == 0 or boot.size == 0:
        return 1.0
    other_side = np.mean(boot <= 0) if diff > 0 else np.mean(boot >= 0)
    return float(min(1.0, 2 * other_side))


def _none_diff(n: int) -> dict[str, Any]:
    return {"diff": None, "low": None, "high": None, "p_value": None, "n": n}


def paired_bootstrap_diff(a, b, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05,
                          ) -> dict[str, Any]:
    """Mean difference b - a of two runs' per-record values on the same (aligned) records."""
    _check(n_boot, alpha)
    a = np.asarray(a, dtype=float).reshape(-1)
    b = np.asarray(b, dtype=float).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"paired runs must be aligned: {a.size} vs {b.size} records")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = a.size
    if n == 0:
        return _none_diff(0)
    diff = float(b.mean() - a.mean())
    # The mean of per-record differences is the difference of the means on every resample;
    # using it makes identical runs give exactly 0.
    boot = _boot_means(b - a, _Resamples(n, n_boot, seed))
    low, high = _interval(boot, alpha)
    return {"diff": diff, "low": low, "high": high, "p_value": _p_value(diff, boot), "n": n}


def paired_bootstrap_counts_f1_diff(counts_a, counts_b, n_boot: int = 1000, seed: int = 1234,
                                    alpha: float = 0.05) -> dict[str, Any]:
    """Micro F1 difference b - a of two runs' per-record (tp, fp, fn) on the same records."""
    _check(n_boot, alpha)
    ca, cb = _as_counts(counts_a), _as_counts(counts_b)
    if ca.shape != cb.shape:
        raise ValueError(f"paired runs must be aligned: {ca.shape[0]} vs {cb.shape[0]} records")
    keep = ~(np.isnan(ca).any(axis=1) | np.isnan(cb).any(axis=1))
    ca, cb = ca[keep], cb[keep]
    n = ca.shape[0]
    if n == 0:
        return _none_diff(0)
    diff = float(_f1(cb.sum(axis=0)) - _f1(ca.sum(axis=0)))
    if np.isnan(diff):
        return _none_diff(n)
    idx = _Resamples(n, n_boot, seed)
    boot = _boot_f1(cb, idx) - _boot_f1(ca, idx)
    low, high = _interval(boot, alpha)
    return {"diff": diff, "low": low, "high": high, "p_value": _p_value(diff, boot), "n": n}


# Macro averages over categories -------------------------------------------------------------

def _macro_means(x: np.ndarray) -> np.ndarray:
    """(b, n, F) values with nan -> (b,) mean over categories of per-category means."""
    scored = ~np.isnan(x)
    sums = np.where(scored, x, 0.0).sum(axis=1)
    counts = scored.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
    return _nanmean_rows(means)


def _macro_f1s(x: np.ndarray) -> np.ndarray:
    """(b, n, F, 3) counts -> (b,) mean over categories of per-category micro F1."""
    return _nanmean_rows(_f1(np.nansum(x, axis=1)))


def _nanmean_rows(m: np.ndarray) -> np.ndarray:
    defined = ~np.isnan(m)
    k = defined.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(k > 0, np.where(defined, m, 0.0).sum(axis=1) / np.where(k > 0, k, 1),
                        np.nan)


def _resampled(stat: Callable[[np.ndarray], np.ndarray], data: np.ndarray,
               idx: _Resamples) -> np.ndarray:
    """stat over every resample, in blocks; `data` has the records on axis 0."""
    out = np.empty(idx.shape[0])
    per_record = max(1, int(np.prod(data.shape[1:])))
    for rows, block in idx.blocks(per_record):
        out[rows] = stat(data[block])
    return out


def _present(data: np.ndarray) -> np.ndarray:
    """Records with at least one value (all-nan records are missing)."""
    return ~np.isnan(data.reshape(data.shape[0], -1)).all(axis=1)


def _macro_ci(data: np.ndarray, stat, n_boot: int, seed: int, alpha: float) -> dict[str, Any]:
    _check(n_boot, alpha)
    data = data[_present(data)] if data.size else data
    n = data.shape[0]
    if n == 0:
        return _none_ci(0)
    value = float(stat(data[None])[0])
    if np.isnan(value):
        return _none_ci(n)
    low, high = _interval(_resampled(stat, data, _Resamples(n, n_boot, seed)), alpha)
    return {"value": value, "low": low, "high": high, "n": n}


def _macro_diff(a: np.ndarray, b: np.ndarray, stat, n_boot: int, seed: int, alpha: float,
                ) -> dict[str, Any]:
    _check(n_boot, alpha)
    if a.shape != b.shape:
        raise ValueError(f"paired runs must be aligned: {a.shape} vs {b.shape}")
    if a.size:
        keep = _present(a) & _present(b)
        a, b = a[keep], b[keep]
    n = a.shape[0]
    if n == 0:
        return _none_diff(0)
    diff = float(stat(b[None])[0] - stat(a[None])[0])
    if np.isnan(diff):
        return _none_diff(n)
    idx = _Resamples(n, n_boot, seed)
    boot = _resampled(stat, b, idx) - _resampled(stat, a, idx)
    low, high = _interval(boot, alpha)
    return {"diff": diff, "low": low, "high": high, "p_value": _p_value(diff, boot), "n": n}


def _matrix(values, ndim: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v.reshape((0,) + (1,) * (ndim - 1))
    if v.ndim != ndim:
        raise ValueError(f"expected a {ndim}-dimensional array (records first), got {v.shape}")
    return v


def bootstrap_macro_ci(values, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05,
                       ) -> dict[str, Any]:
    """Percentile CI of a macro average from an (n records, F categories) matrix with nan."""
    return _macro_ci(_matrix(values, 2), _macro_means, n_boot, seed, alpha)


def paired_bootstrap_macro_diff(a, b, n_boot: int = 1000, seed: int = 1234,
                                alpha: float = 0.05) -> dict[str, Any]:
    """Macro-average difference b - a of two runs' aligned (n, F) matrices."""
    return _macro_diff(_matrix(a, 2), _matrix(b, 2), _macro_means, n_boot, seed, alpha)


def bootstrap_macro_f1_ci(counts, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05,
                          ) -> dict[str, Any]:
    """Percentile CI of macro F1 from (n records, F categories, 3) counts (tp, fp, fn)."""
    return _macro_ci(_matrix(counts, 3), _macro_f1s, n_boot, seed, alpha)


def paired_bootstrap_macro_f1_diff(counts_a, counts_b, n_boot: int = 1000, seed: int = 1234,
                                   alpha: float = 0.05) -> dict[str, Any]:
    """Macro F1 difference b - a of two runs' aligned (n, F, 3) counts."""
    return _macro_diff(_matrix(counts_a, 3), _matrix(counts_b, 3), _macro_f1s, n_boot, seed,
                       alpha)
