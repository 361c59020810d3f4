"""Seeded bootstrap confidence intervals and paired comparisons of runs, streamed over records.

Rules (the same in every function):
- The unit of resampling is the RECORD, and the bootstrap is the Poisson bootstrap: on each of
  n_boot resamples every record is counted w times, w ~ Poisson(1) (Hanley & MacGibbon 2006;
  Chamandy et al. 2012, "Estimating uncertainty for massive data streams"). For large n it
  gives the same intervals as drawing n records with replacement, and it needs no pass over
  all records at once: every statistic here is a function of weighted sums of per-record
  numbers, accumulated chunk by chunk (`Bootstrap`), so memory does not grow with the number
  of records.
- A record's weights depend only on the seed and the record's KEY (`poisson_weights`: a
  64-bit hash of the seed, the key and the resample number; `elmtex.io.id_hash` of the id
  in evaluate.py, the position in the array in `bootstrap_mean_ci`). So a record is
  resampled the same way in every run (paired comparisons need no alignment beyond the id),
  in every order and in every shard, and dropping a record leaves the others' weights as they
  were.
- Missing records count 0 in every sum: None in `bootstrap_ci`, nan elsewhere; in paired
  comparisons a record missing in either run is dropped from both. `n` is the number of
  records that remain.
- The interval is the percentile interval: the alpha/2 and 1 - alpha/2 quantiles of the
  resampled statistic (numpy's default linear interpolation). Resamples on which the
  statistic is undefined (nan, e.g. a micro F1 with no entities, or no record drawn at all)
  are left out of the quantiles.
- Micro F1 from per-record counts (tp, fp, fn) is 2TP/(2TP+FP+FN) of the summed counts, as in
  `elmtex.entities.MatchCounts`; undefined when all three sums are 0.
- Paired differences are b - a (b = the compared run, a = the baseline), with the same
  weights for both runs. The p-value is two-sided: twice the fraction of resampled
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

import math
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from elmtex.config import ConfigError

KINDS = ("mean", "f1", "macro_mean", "macro_f1")
CHUNK = 256  # records per accumulation step in bootstrap_mean_ci

# P(X <= k) for X ~ Poisson(1), up to where it reaches 1 in float64.
_POISSON_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(30)])
_MASK64 = (1 << 64) - 1


def _check(n_boot: int, alpha: float) -> None:
    if int(n_boot) != n_boot or n_boot < 1:
        raise ConfigError(f"n_boot must be a positive integer, got {n_boot!r}.")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha!r}.")


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def poisson_weights(keys, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, len(keys)) Poisson(1) counts: resample b's weight of the record with key k is a
    function of (seed, k, b) only."""
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
    salt = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _MASK64
    with np.errstate(over="ignore"):
        base = _mix(keys ^ np.uint64(salt))
        steps = np.arange(1, int(n_boot) + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = _mix(base[None, :] + steps[:, None])
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53  # uniform in [0, 1)
    return np.searchsorted(_POISSON_CDF, u, side="right").astype(np.float64)


# Per-record features and the statistic of their sums, per kind --------------------------------


def present(kind: str, values: np.ndarray) -> np.ndarray:
    """(m,) records with a value: not nan (mean), no nan (f1), not all nan (macro kinds)."""
    v = np.asarray(values, dtype=float)
    nan = np.isnan(v.reshape(v.shape[0], -1))
    if kind in ("mean", "f1"):
        return ~nan.any(axis=1)
    return ~nan.all(axis=1)


def features(kind: str, values: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """(m, k) per-record numbers whose sums give the statistic; the last column counts the
    record (1 when present and kept). `keep` drops records (paired comparisons)."""
    v = np.asarray(values, dtype=float)
    m = v.shape[0]
    rec = present(kind, v) if keep is None else present(kind, v) & keep
    scored = ~np.isnan(v) & rec.reshape((m,) + (1,) * (v.ndim - 1))
    x = np.where(scored, v, 0.0).reshape(m, -1)
    if kind == "mean":
        cols = [x, rec[:, None]]
    elif kind == "f1":
        cols = [x.reshape(m, 3), rec[:, None]]
    elif kind == "macro_mean":
        cols = [x, scored.reshape(m, -1), rec[:, None]]
    elif kind == "macro_f1":
        cols = [x, rec[:, None]]
    else:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
    return np.concatenate([np.asarray(c, dtype=float) for c in cols], axis=1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _f1(summed: np.ndarray) -> np.ndarray:
    """Micro F1 of summed (tp, fp, fn) on the last axis; nan where there is nothing to score."""
    tp, fp, fn = summed[..., 0], summed[..., 1], summed[..., 2]
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _nanmean_last(m: np.ndarray) -> np.ndarray:
    defined = ~np.isnan(m)
    return _ratio(np.where(defined, m, 0.0).sum(axis=-1), defined.sum(axis=-1))


def statistic(kind: str, sums: np.ndarray) -> np.ndarray:
    """The statistic from summed features (..., k) -> (...); nan where undefined."""
    s = sums[..., :-1]
    if kind == "mean":
        return _ratio(s[..., 0], sums[..., -1])
    if kind == "f1":
        return _f1(s)
    if kind == "macro_mean":
        f = s.shape[-1] // 2
        return _nanmean_last(_ratio(s[..., :f], s[..., f:]))
    if kind == "macro_f1":
        return _nanmean_last(_f1(s.reshape(*s.shape[:-1], -1, 3)))
    raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")


# Results -------------------------------------------------------------------------------------


def _interval(boot: np.ndarray, alpha: float) -> tuple[float | None, float | None]:
    boot = boot[~np.isnan(boot)]
    if boot.size == 0:
        return None, None
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _p_value(diff: float, boot: np.ndarray) -> float:
    boot = boot[~np.isnan(boot)]
    if diff == 0 or boot.size == 0:
        return 1.0
    other_side = np.mean(boot <= 0) if diff > 0 else np.mean(boot >= 0)
    return float(min(1.0, 2 * other_side))


def _none_ci(n: int) -> dict[str, Any]:
    return {"value": None, "low": None, "high": None, "n": n}


def _none_diff(n: int) -> dict[str, Any]:
    return {"diff": None, "low": None, "high": None, "p_value": None, "n": n}


class Bootstrap:
    """Weighted sums of named estimates, fed chunk by chunk: memory is n_boot x (numbers per
    estimate), whatever the number of records.

        boot = Bootstrap(n_boot, seed, alpha)
        for chunk in ...:
            w = boot.weights(keys_of_chunk)
            boot.add("rougeL", "macro_mean", rougeL_of_chunk, w)
            boot.add_paired("rougeL b-a", "macro_mean", a_chunk, b_chunk, w)
        boot.ci("rougeL"); boot.diff("rougeL b-a")
    """

    def __init__(self, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05):
        _check(n_boot, alpha)
        self.n_boot, self.seed, self.alpha = int(n_boot), seed, alpha
        self._kind: dict[Hashable, str] = {}
        self._point: dict[Hashable, np.ndarray] = {}
        self._boot: dict[Hashable, np.ndarray] = {}

    def weights(self, keys) -> np.ndarray:
        return poisson_weights(keys, self.n_boot, self.seed)

    def _add(self, name: Hashable, kind: str, feats: np.ndarray, w: np.ndarray) -> None:
        if w.shape[1] != feats.shape[0]:
            raise ValueError(f"{w.shape[1]} weights for {feats.shape[0]} records")
        if name not in self._kind:
            self._kind[name] = kind
            self._point[name] = np.zeros(feats.shape[1])
            self._boot[name] = np.zeros((self.n_boot, feats.shape[1]))
        elif self._kind[name] != kind or self._point[name].shape[0] != feats.shape[1]:
            raise ValueError(f"estimate {name!r} was fed a different kind or shape before")
        self._point[name] += feats.sum(axis=0)
        self._boot[name] += w @ feats

    def add(self, name: Hashable, kind: str, values, w: np.ndarray) -> None:
        """Add a chunk of per-record values (records on axis 0; nan = missing)."""
        self._add(name, kind, features(kind, values), w)

    def add_paired(self, name: Hashable, kind: str, a, b, w: np.ndarray) -> None:
        """Add a chunk of two runs' values on the same records (b - a); a record missing in
        either run is dropped from both."""
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape:
            raise ValueError(f"paired runs must be aligned: {a.shape} vs {b.shape}")
        keep = present(kind, a) & present(kind, b)
        self._add((name, "a"), kind, features(kind, a, keep), w)
        self._add((name, "b"), kind, features(kind, b, keep), w)

    def sums(self, name: Hashable) -> np.ndarray:
        """The estimate's summed features over all records (weight 1)."""
        return self._point[name]

    def ci(self, name: Hashable) -> dict[str, Any]:
        """{value, low, high, n} of an estimate (all None with n 0 when nothing was added)."""
        if name not in self._kind:
            return _none_ci(0)
        kind, point = self._kind[name], self._point[name]
        n = int(point[-1])
        value = float(statistic(kind, point))
        if n == 0 or math.isnan(value):
            return _none_ci(n)
        low, high = _interval(statistic(kind, self._boot[name]), self.alpha)
        return {"value": value, "low": low, "high": high, "n": n}

    def diff(self, name: Hashable) -> dict[str, Any]:
        """{diff, low, high, p_value, n} of a paired estimate (b - a)."""
        if (name, "a") not in self._kind:
            return _none_diff(0)
        kind = self._kind[(name, "a")]
        pa, pb = self._point[(name, "a")], self._point[(name, "b")]
        n = int(pa[-1])
        diff = float(statistic(kind, pb) - statistic(kind, pa))
        if n == 0 or math.isnan(diff):
            return _none_diff(n)
        boot = statistic(kind, self._boot[(name, "b")]) - statistic(kind, self._boot[(name, "a")])
        low, high = _interval(boot, self.alpha)
        return {"diff": diff, "low": low, "high": high, "p_value": _p_value(diff, boot), "n": n}


# One array of per-record values (keys default to the positions 0..n-1) ----------------------


def _keys(keys, n: int) -> np.ndarray:
    if keys is None:
        return np.arange(n, dtype=np.uint64)
    k = np.asarray(keys, dtype=np.uint64).reshape(-1)
    if k.size != n:
        raise ValueError(f"{k.size} keys for {n} records")
    return k


def bootstrap_mean_ci(
    values, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Percentile CI of a mean of per-record values (nan = missing)."""
    data = np.asarray(values, dtype=float).reshape(-1)
    boot = Bootstrap(n_boot, seed, alpha)
    k = _keys(keys, data.shape[0])
    for start in range(0, data.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        boot.add("mean", "mean", data[part], boot.weights(k[part]))
    return boot.ci("mean")


def bootstrap_ci(
    per_record: Sequence,
    statistic: Callable[[list], float | None],
    n_boot: int = 1000,
    seed: int = 1234,
    alpha: float = 0.05,
    keys=None,
) -> dict[str, Any]:
    """Percentile CI of any statistic of a list of per-record items (generic, slow path: for
    statistics that are no weighted sums, such as the review numbers of elmtex/review_stats.py;
    and the reference the streamed functions are tested against).

    `statistic` receives a list of records (the resample: each record repeated by its
    weight) and returns a float or None. Records that are None are dropped.
    """
    _check(n_boot, alpha)
    k = _keys(keys, len(per_record))
    kept = [i for i, r in enumerate(per_record) if r is not None]
    records = [per_record[i] for i in kept]
    n = len(records)
    if n == 0:
        return _none_ci(0)
    value = statistic(records)
    if value is None:
        return _none_ci(n)
    weights = poisson_weights(k[kept], n_boot, seed).astype(int)
    boot = np.full(int(n_boot), np.nan)
    for b, row in enumerate(weights):
        resample = [r for r, times in zip(records, row, strict=True) for _ in range(times)]
        s = statistic(resample) if resample else None
        if s is not None:
            boot[b] = s
    low, high = _interval(boot, alpha)
    return {"value": float(value), "low": low, "high": high, "n": n}
