"""Compact per-record rows of numbers, for scores kept over tens of thousands of records.

A Python list of lists of floats costs about 30 bytes per number (a float object and a
pointer, plus a tuple or list per row); `RowStore` keeps float64 values in numpy blocks, 8 bytes
per number, with the list interface the scoring code uses: `append(row)`, `len()`, `store[i]`
(a writable view of row i, so `store[i][j] = x` works) and `np.asarray(store)`. Values are the
same float64 numbers a list would hold, so every statistic computed from them is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

_BLOCK_ROWS = 4096  # rows per block: growing never copies what is already stored


class RowStore:
    """Rows of equal shape (a number, a list of numbers, or a list of equal tuples)."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._tail: tuple[int, ...] | None = None  # the shape of one row
        self._n = 0

    def append(self, row: Any) -> None:
        value = np.asarray(row, dtype=np.float64)
        if self._tail is None:
            self._tail = value.shape
        elif value.shape != self._tail:
            raise ValueError(f"row of shape {value.shape}, the others have {self._tail}")
        if self._n == len(self._blocks) * _BLOCK_ROWS:
            self._blocks.append(np.empty((_BLOCK_ROWS, *self._tail), dtype=np.float64))
        self._blocks[-1][self._n % _BLOCK_ROWS] = value
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> Any:
        if not -self._n <= i < self._n:
            raise IndexError(i)
        i %= self._n
        return self._blocks[i // _BLOCK_ROWS][i % _BLOCK_ROWS]

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._n))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._n == 0:
            out = np.zeros((0, *(self._tail or ())), dtype=np.float64)
        else:
            out = np.concatenate(self._blocks)[:self._n]
        return out if dtype is None else out.astype(dtype, copy=False)

    def tolist(self) -> list:
        return np.asarray(self).tolist()
