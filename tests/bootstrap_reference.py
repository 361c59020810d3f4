"""Bootstrap helpers that only the tests use: one-call wrappers of elmtex.stats.Bootstrap for a
whole array (micro F1, macro averages, paired differences), to check against the generic
stats.bootstrap_ci. The pipeline feeds stats.Bootstrap chunk by chunk itself
(elmtex/summaries.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from elmtex.stats import CHUNK, Bootstrap


def _keys(keys, n: int) -> np.ndarray:
    if keys is None:
        return np.arange(n, dtype=np.uint64)
    k = np.asarray(keys, dtype=np.uint64).reshape(-1)
    if k.size != n:
        raise ValueError(f"{k.size} keys for {n} records")
    return k


def _matrix(values, ndim: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v.reshape((0,) + (3,) * (ndim - 1))
    if v.ndim != ndim:
        raise ValueError(f"expected a {ndim}-dimensional array (records first), got {v.shape}")
    return v


def _as_counts(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.size == 0:
        return c.reshape(0, 3)
    if c.ndim != 2 or c.shape[1] != 3:
        raise ValueError(f"counts must have shape (n, 3) for tp, fp, fn; got {c.shape}")
    return c


def _ci_of(
    kind: str,
    data: np.ndarray,
    n_boot: int,
    seed: int,
    alpha: float,
    keys,
) -> dict[str, Any]:
    boot = Bootstrap(n_boot, seed, alpha)
    k = _keys(keys, data.shape[0])
    for start in range(0, data.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        boot.add("x", kind, data[part], boot.weights(k[part]))
    return boot.ci("x")


def _diff_of(
    kind: str, a: np.ndarray, b: np.ndarray, n_boot: int, seed: int, alpha: float, keys
) -> dict[str, Any]:
    if a.shape != b.shape:
        raise ValueError(f"paired runs must be aligned: {a.shape} vs {b.shape}")
    boot = Bootstrap(n_boot, seed, alpha)
    k = _keys(keys, a.shape[0])
    for start in range(0, a.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        boot.add_paired("x", kind, a[part], b[part], boot.weights(k[part]))
    return boot.diff("x")


def bootstrap_counts_f1_ci(
    counts, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Percentile CI of micro F1 from per-record (tp, fp, fn) rows (a row with a nan is
    missing)."""
    return _ci_of("f1", _as_counts(counts), n_boot, seed, alpha, keys)


def paired_bootstrap_diff(
    a, b, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Mean difference b - a of two runs' per-record values on the same (aligned) records."""
    a = np.asarray(a, dtype=float).reshape(-1)
    b = np.asarray(b, dtype=float).reshape(-1)
    return _diff_of("mean", a, b, n_boot, seed, alpha, keys)


def paired_bootstrap_counts_f1_diff(
    counts_a, counts_b, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Micro F1 difference b - a of two runs' per-record (tp, fp, fn) on the same records."""
    return _diff_of("f1", _as_counts(counts_a), _as_counts(counts_b), n_boot, seed, alpha, keys)


def bootstrap_macro_ci(
    values, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Percentile CI of a macro average from an (n records, F categories) matrix with nan."""
    return _ci_of("macro_mean", _matrix(values, 2), n_boot, seed, alpha, keys)


def paired_bootstrap_macro_diff(
    a, b, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Macro-average difference b - a of two runs' aligned (n, F) matrices."""
    return _diff_of("macro_mean", _matrix(a, 2), _matrix(b, 2), n_boot, seed, alpha, keys)


def bootstrap_macro_f1_ci(
    counts, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Percentile CI of macro F1 from (n records, F categories, 3) counts (tp, fp, fn)."""
    return _ci_of("macro_f1", _matrix(counts, 3), n_boot, seed, alpha, keys)


def paired_bootstrap_macro_f1_diff(
    counts_a, counts_b, n_boot: int = 1000, seed: int = 1234, alpha: float = 0.05, keys=None
) -> dict[str, Any]:
    """Macro F1 difference b - a of two runs' aligned (n, F, 3) counts."""
    return _diff_of(
        "macro_f1", _matrix(counts_a, 3), _matrix(counts_b, 3), n_boot, seed, alpha, keys
    )
