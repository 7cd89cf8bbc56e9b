"""Global configuration: the Keras home folder and `keras.json`.

The FAQ's defaults: `~/.keras/keras.json` holding
`{"image_data_format": "channels_last", "epsilon": 1e-07, "floatx": "float32",
"backend": "jax"}`. `KERAS_HOME` moves the folder; when the home folder cannot be
created, `/tmp/.keras` is used. The file's `backend` field is read and ignored: this
package always runs on JAX.
"""

from __future__ import annotations

import json
import os

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_BACKEND = "jax"
_COMPILATION_CACHE = True
_KERAS_HOME: str | None = None

_VALID_FLOATX = ("bfloat16", "float16", "float32", "float64")
_VALID_DATA_FORMATS = ("channels_first", "channels_last")


def keras_home() -> str:
    """The Keras home folder: `$KERAS_HOME`, else `~/.keras`, else `/tmp/.keras`."""
    if _KERAS_HOME is not None:
        return _KERAS_HOME
    return _resolve_home()


def _resolve_home() -> str:
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def floatx() -> str:
    """The default float type, as a string (e.g. `"float32"`)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type (`"float16"`, `"bfloat16"`, `"float32"` or `"float64"`).

    `"float64"` also turns on JAX's 64-bit mode (`jax_enable_x64`) for the process, without
    which JAX silently computes in float32; it stays on afterwards.
    """
    global _FLOATX
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {_VALID_FLOATX}")
    _FLOATX = value
    if value == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (default `1e-7`)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """`"channels_last"` or `"channels_first"`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            f"The `data_format` argument must be one of {_VALID_DATA_FORMATS}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format: str | None) -> str:
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            f"The `data_format` argument must be one of {_VALID_DATA_FORMATS}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def backend() -> str:
    """Always `"jax"`: the engine of this package."""
    return "jax"


def compilation_cache_enabled() -> bool:
    return _COMPILATION_CACHE


def load_config() -> None:
    """Read `keras.json` from the Keras home folder, writing the defaults if absent."""
    global _KERAS_HOME, _COMPILATION_CACHE, _BACKEND
    home = _resolve_home()
    try:
        os.makedirs(home, exist_ok=True)
    except OSError:
        home = os.path.join("/tmp", ".keras")
        os.makedirs(home, exist_ok=True)
    _KERAS_HOME = home
    path = os.path.join(home, "keras.json")
    config = {}
    if os.path.exists(path):
        try:
            with open(path) as f:
                config = json.load(f)
        except ValueError:
            config = {}
    if config.get("floatx") in _VALID_FLOATX:
        set_floatx(config["floatx"])
    if isinstance(config.get("epsilon"), (int, float)):
        set_epsilon(config["epsilon"])
    if config.get("image_data_format") in _VALID_DATA_FORMATS:
        set_image_data_format(config["image_data_format"])
    # Real Keras writes "tensorflow" here; we read it and run on JAX regardless.
    _BACKEND = config.get("backend", "jax")
    _COMPILATION_CACHE = bool(config.get("jax_compilation_cache", True))
    if _COMPILATION_CACHE and os.access(home, os.W_OK):
        # A second run of the same script compiles less: XLA executables persist here.
        import jax

        jax.config.update("jax_compilation_cache_dir", os.path.join(home, "jax_cache"))
    if not os.path.exists(path) and os.access(home, os.W_OK):
        defaults = {
            "floatx": floatx(),
            "epsilon": epsilon(),
            "backend": "jax",
            "image_data_format": image_data_format(),
        }
        try:
            with open(path, "w") as f:
                f.write(json.dumps(defaults, indent=4))
        except OSError:
            pass
