"""Unique object names as Keras makes them: `dense`, `dense_1`, `dense_2`, ..."""

from __future__ import annotations

import re
import threading
from collections import defaultdict

_LOCAL = threading.local()


def _counts():
    counts = getattr(_LOCAL, "counts", None)
    if counts is None:
        counts = defaultdict(int)
        _LOCAL.counts = counts
    return counts


def to_snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def auto_name(prefix: str) -> str:
    """Return `prefix` the first time, then `prefix_1`, `prefix_2`, ..."""
    counts = _counts()
    n = counts[prefix]
    counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def uniquify(name: str) -> str:
    return auto_name(name)


def reset_names() -> None:
    _counts().clear()
