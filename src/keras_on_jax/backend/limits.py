"""Size limits checked before a variable's memory is allocated.

XLA's CPU allocator aborts the whole process when an allocation fails, so a typo
(`Dense(10**12)`) or a hostile file declaring an absurd shape would take the Python process
down with it. Every variable made from an initializer (`add_weight`, optimizer slots,
metric state) is checked here first, by its declared shape and dtype:

- one variable may not need more than `keras.config.max_variable_bytes()` (default: the
  memory this machine can still give the process);
- while a file or config is being turned into a model (`load_model`, `model_from_json`,
  ...), the variables it creates may not need more than `keras.config.max_model_bytes()`
  in total (default: the memory the machine could give when the load began).

The check on the hot path is a multiplication and a comparison; the machine's memory is
only looked up for variables over a few tens of megabytes (and once per load).
"""

from __future__ import annotations

import contextlib
import math
import os

import jax.numpy as jnp

_FAST_CAP = 64 * 2**20  # variables up to this size never trigger a memory query

_max_variable_bytes = None  # None: the machine's memory
_max_model_bytes = None
_fast_bytes = -1  # below this a variable is known to fit; -1: not yet computed
_budgets = []  # the loads in progress, innermost last
_itemsizes = {}


def set_max_variable_bytes(max_bytes):
    """Refuse any variable that would need more than `max_bytes` bytes (`None`: the
    memory this machine can still give, the default).

    The check happens before the memory is allocated, from the variable's shape and dtype,
    for variables built by user code and for those a loaded file describes.
    """
    global _max_variable_bytes, _fast_bytes
    _max_variable_bytes = _positive_or_none(max_bytes, "max_variable_bytes")
    _fast_bytes = -1


def max_variable_bytes():
    """The limit set by `set_max_variable_bytes`, or `None` (the machine's memory)."""
    return _max_variable_bytes


def set_max_model_bytes(max_bytes):
    """Refuse a file or config (`load_model`, `model_from_json`, ...) whose variables need
    more than `max_bytes` bytes in total (`None`: the memory this machine can give when
    the load begins, the default)."""
    global _max_model_bytes
    _max_model_bytes = _positive_or_none(max_bytes, "max_model_bytes")


def max_model_bytes():
    """The limit set by `set_max_model_bytes`, or `None` (the machine's memory)."""
    return _max_model_bytes


def _positive_or_none(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive int (bytes) or None. Received: "
                         f"{name}={value!r}")
    return value


def _itemsize(dtype):
    size = _itemsizes.get(dtype)
    if size is None:
        size = _itemsizes[dtype] = jnp.dtype(dtype).itemsize
    return size


def check_variable_size(shape, dtype, path):
    """Raise a ValueError if a variable of `shape`/`dtype` (at `path`) must not be made."""
    nbytes = math.prod(shape) * _itemsize(dtype)
    if nbytes > _fast_bytes or _budgets:
        what = f"variable '{path}' with shape {tuple(shape)} and dtype {dtype}"
        if any(d < 0 for d in shape):
            raise ValueError(f"Cannot create {what}: a dimension is negative.")
        _check(nbytes, f"create {what}")
        if _budgets:
            _budgets[-1].add(nbytes, what)


def check_array_size(shape, itemsize, what):
    """Raise a ValueError if an array a file declares (`what`: which, where) is too large
    to read: over `max_variable_bytes` or the memory this machine has left."""
    nbytes = math.prod(shape) * itemsize
    if nbytes > _fast_bytes:
        _check(nbytes, f"read {what} (shape {tuple(shape)})")


def check_total_size(nbytes, what, model=True):
    """Raise a ValueError if `what` (arrays a file declares, all together) needs more than
    the memory this machine has left, or (`model`: they are a model's variables) more than
    `max_model_bytes`."""
    if model and _max_model_bytes is not None and nbytes > _max_model_bytes:
        raise ValueError(f"{what} needs {format_bytes(nbytes)}, over the limit "
                         f"keras.config.max_model_bytes()={format_bytes(_max_model_bytes)}.")
    if nbytes > _FAST_CAP:
        free = available_memory()
        if free is not None and nbytes > free:
            raise ValueError(f"{what} needs {format_bytes(nbytes)}, more than the "
                             f"{format_bytes(free)} of memory this machine has left.")


def _check(nbytes, action):
    global _fast_bytes
    if _max_variable_bytes is not None and nbytes > _max_variable_bytes:
        raise ValueError(
            f"Cannot {action}: it needs {format_bytes(nbytes)}, over the limit "
            f"keras.config.max_variable_bytes()={format_bytes(_max_variable_bytes)} (raise "
            f"it with keras.config.set_max_variable_bytes)."
        )
    if nbytes > _fast_bytes:
        free = available_memory()
        if _fast_bytes < 0:
            cap = _FAST_CAP if free is None else min(_FAST_CAP, free // 8)
            if _max_variable_bytes is not None:
                cap = min(cap, _max_variable_bytes)
            _fast_bytes = cap
        if free is not None and nbytes > free:
            raise ValueError(
                f"Cannot {action}: it needs {format_bytes(nbytes)} and this machine has "
                f"{format_bytes(free)} of memory left for it. (Set a limit of your own with "
                f"keras.config.set_max_variable_bytes.)"
            )


class _Budget:
    def __init__(self, source):
        self.source = source
        self.total = 0
        self.limit = _max_model_bytes
        self.from_setting = self.limit is not None
        if self.limit is None:
            self.limit = available_memory()

    def add(self, nbytes, what):
        self.total += nbytes
        if self.limit is not None and self.total > self.limit:
            source = f" described by {self.source}" if self.source else ""
            if self.from_setting:
                bound = (f"the limit keras.config.max_model_bytes()="
                         f"{format_bytes(self.limit)}")
            else:
                bound = f"the {format_bytes(self.limit)} of memory this machine has left"
            raise ValueError(
                f"The model{source} needs more memory than {bound}: its variables reach "
                f"{format_bytes(self.total)} at {what}."
            )


@contextlib.contextmanager
def model_budget(source=None):
    """Count the variables created inside against `max_model_bytes` (one model's load)."""
    budget = _Budget(source)
    _budgets.append(budget)
    try:
        yield budget
    finally:
        _budgets.remove(budget)


def format_bytes(n):
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


# ---------------------------------------------------------------------------------------
# How much memory the process can still get
# ---------------------------------------------------------------------------------------
def available_memory():
    """Bytes a new allocation can still get (None when unknown): on an accelerator the
    devices' free memory, or the host's, whichever is larger; on the host the smallest of
    the kernel's estimate (with free swap), the container's (cgroup) headroom and the
    address-space limit's (`RLIMIT_AS`) headroom."""
    host = _host_memory()
    device = _device_memory()
    if device is not None and (host is None or device > host):
        return device
    return host


def _host_memory():
    candidates = [_meminfo_available(), _cgroup_headroom(), _rlimit_headroom()]
    known = [c for c in candidates if c is not None]
    if not known:
        try:
            known = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
        except (ValueError, OSError, AttributeError):
            return None
    return max(0, min(known))


def _meminfo_available():
    try:
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        kib = int(fields["MemAvailable"].split()[0]) + int(fields.get("SwapFree", "0 kB").split()[0])
        return kib * 1024
    except (OSError, KeyError, ValueError):
        return None


def _cgroup_headroom():
    for limit_file, usage_file in (
            ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
             "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            if limit == "max" or int(limit) >= 2**60:
                return None
            with open(usage_file) as f:
                return int(limit) - int(f.read().strip())
        except (OSError, ValueError):
            continue
    return None


def _rlimit_headroom():
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return soft - used
    except (ImportError, OSError, ValueError, AttributeError):
        return None


def _device_memory():
    import jax

    try:
        if jax.default_backend() == "cpu":
            return None
        free = 0
        for device in jax.local_devices():
            stats = device.memory_stats() or {}
            if "bytes_limit" not in stats:
                return None
            free += stats["bytes_limit"] - stats.get("bytes_in_use", 0)
        return free
    except Exception:  # a backend without memory statistics: unknown
        return None
