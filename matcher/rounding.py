"""Scores rounded for matches and explanations: as Python's round() does, many at once."""

from __future__ import annotations

import numpy as np


def rounded(values: np.ndarray, digits: int) -> list[float]:
    """``round(value, digits)`` of each value, as Python rounds (the decimal value, half to
    even), for many values at once.

    ``rint(value x 10^digits) / 10^digits`` is the same double wherever the product is not
    within its rounding error of a half (the division of two exact doubles is correctly
    rounded, as is Python's result); those few, and very large or odd values, are rounded by
    Python itself.
    """
    scale = 10.0**digits
    scaled = values * scale
    result = (np.rint(scaled) / scale).tolist()
    with np.errstate(invalid="ignore"):
        doubtful = (np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6) | ~(
            np.abs(scaled) < 1e9
        )
    for k in np.flatnonzero(doubtful).tolist():
        result[k] = round(float(values[k]), digits)
    return result
