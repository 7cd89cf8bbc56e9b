"""Device names and `keras.device(name)` scopes.

Accepted names: `"gpu:0"`, `"/gpu:0"`, `"GPU:0"`, `"/device:GPU:0"`,
`"/job:localhost/replica:0/task:0/device:GPU:0"`, `"cpu"` (index 0).
"""

from __future__ import annotations

import collections
import contextlib
import re
import threading

import jax

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])

_NAME = re.compile(r"^(?:.*device:)?/?([A-Za-z]+)(?::(\d+))?$")


def parse_device_name(name):
    """`"/gpu:1"` -> `("gpu", 1)`."""
    if not isinstance(name, str):
        raise ValueError(f"A device name must be a string like 'gpu:0'. Received: {name!r}")
    m = _NAME.match(name.strip())
    if not m:
        raise ValueError(
            f"Invalid device name {name!r}: expected '<type>:<index>' such as 'gpu:0', "
            "'/gpu:0' or 'cpu:1'."
        )
    return m.group(1).lower(), int(m.group(2) or 0)


def _devices_of(kind):
    try:
        return list(jax.local_devices(backend=kind))
    except RuntimeError:
        return []


def available_device_names():
    names = []
    for kind in ("cpu", "gpu", "tpu"):
        names.extend(f"{d.platform}:{i}" for i, d in enumerate(_devices_of(kind)))
    return names


def get_device(name, soft=False):
    """The local `jax.Device` for a device name; a clear error when there is none.

    With `soft` (TensorFlow's soft device placement, on by default there), a name whose
    device type this machine lacks (`'/gpu:1'` on a CPU or TPU host) means the machine's
    default devices: the same index where it exists, else the first one.
    """
    if isinstance(name, jax.Device):
        return name
    kind, index = parse_device_name(name)
    devices = _devices_of("gpu" if kind == "cuda" else kind)
    if soft and not devices:
        devices = jax.local_devices()
        return devices[index] if index < len(devices) else devices[0]
    if index >= len(devices):
        raise ValueError(
            f"Device {name!r} does not exist. Available devices: {available_device_names()}"
        )
    return devices[index]


_SCOPE = threading.local()


def current_device():
    """The `jax.Device` of the innermost `keras.device(...)` scope, or None."""
    stack = getattr(_SCOPE, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def device(device_name, soft=False):
    """Place the variables created and the eager computations run inside on one device.

    `with keras.device("gpu:0"): ...` (also `"/gpu:0"`, `"cpu:1"`). Inside,
    `jax.default_device` is that device, and a layer called on symbolic inputs records it
    on its graph node (`node.device`). See docs/differences.md for how the compiled step
    uses it. `soft`: see `get_device`.
    """
    dev = get_device(device_name, soft=soft)
    stack = getattr(_SCOPE, "stack", None)
    if stack is None:
        stack = _SCOPE.stack = []
    stack.append(dev)
    try:
        with jax.default_device(dev):
            yield dev
    finally:
        stack.pop()


def tf_device(device_name):
    """`tf.device` / the FAQ's `tf.device_scope`: `device` with TensorFlow's soft placement,
    so the FAQ's `'/gpu:0'` / `'/gpu:1'` example runs on a machine without GPUs."""
    return device(device_name, soft=True)


def list_physical_devices(device_type=None):
    """TensorFlow's `tf.config.list_physical_devices`, from the devices JAX sees."""
    kinds = ("cpu", "gpu", "tpu") if device_type is None else (device_type.lower(),)
    out = []
    for kind in kinds:
        for i, _ in enumerate(_devices_of(kind)):
            out.append(PhysicalDevice(f"/physical_device:{kind.upper()}:{i}", kind.upper()))
    return out
