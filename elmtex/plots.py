"""PNG plots of evaluation results (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: works on a headless box

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

Interval = dict  # {"value", "low", "high"} with None where undefined


def _errors(cells: list[Interval]) -> tuple[np.ndarray, np.ndarray]:
    values = np.array([np.nan if c.get("value") is None else c["value"] for c in cells])
    lows = np.array([np.nan if c.get("low") is None else c["low"] for c in cells])
    highs = np.array([np.nan if c.get("high") is None else c["high"] for c in cells])
    err = np.vstack([values - lows, highs - values])
    return np.nan_to_num(values), np.nan_to_num(np.clip(err, 0, None))


def plot_categories(per_run: dict[str, dict[str, Interval]], path: Path, metric: str) -> Path:
    """Horizontal grouped bars: one group per category, one bar per run, 95% CI whiskers."""
    runs = list(per_run)
    categories = list(next(iter(per_run.values())))
    height = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(categories) * max(1.5, len(runs) * 0.8) + 1.5))
    y = np.arange(len(categories))
    for i, run in enumerate(runs):
        values, err = _errors([per_run[run].get(c, {}) for c in categories])
        ax.barh(
            y + (i - (len(runs) - 1) / 2) * height,
            values,
            height,
            xerr=err,
            capsize=2,
            label=run,
            error_kw={"elinewidth": 0.8},
        )
    ax.set_yticks(y, categories)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{metric} (bars: 95% bootstrap CI)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


def plot_rates(per_run: dict[str, dict[str, Interval]], path: Path) -> Path:
    """Grouped vertical bars of rates (e.g. JSON parse rate, schema-valid rate) per run."""
    runs = list(per_run)
    names = list(next(iter(per_run.values())))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(runs) + 2), 4))
    x = np.arange(len(runs))
    for i, name in enumerate(names):
        values, err = _errors([per_run[r][name] for r in runs])
        ax.bar(
            x + (i - (len(names) - 1) / 2) * width, values, width, yerr=err, capsize=3, label=name
        )
    ax.set_xticks(x, [_wrap(r) for r in runs], fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate (bars: 95% bootstrap CI)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _wrap(name: str, width: int = 22) -> str:
    return "\n".join(name[i : i + width] for i in range(0, len(name), width))


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
