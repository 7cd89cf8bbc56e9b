"""Reading files that may be damaged or hostile.

Model files come from the internet. Loading one must end in the model or in an ordinary
exception (`ValueError`, `TypeError`, `OSError`) that names the file; never in an abort, a
hang, a `MemoryError`, a `RecursionError` or a raw `zlib.error`/`struct.error`/`KeyError`.

- `parse_json` bounds the text's size and nesting before and while parsing;
- `check_config` walks the parsed tree (without recursion) before anything is
  deserialized: nesting depth, node count, and the types of the keys every serialized
  object carries (`class_name`, `config`, `module`, ...), naming where it is wrong;
- `loading(path)` wraps a whole load: the variables it creates count against
  `keras.config.max_model_bytes()` (see `backend/limits.py`), and whatever escapes is
  turned into an ordinary exception naming the file (the original stays chained).

Array sizes declared by files are checked against the same limits before they are read
(`weights_h5`, `orbax_dir`); zip members in `keras_archive`.
"""

from __future__ import annotations

import contextlib
import json
import os

from keras_on_jax.backend import limits

# A Keras config nests a few levels per layer (envelope, config, layers list, nodes):
# ordinary models stay under 40, deeply nested ones (models in models in wrappers) under
# 80. Deeper is refused before the recursive deserializer would overflow the stack.
MAX_CONFIG_DEPTH = 100
# Configs are kilobytes to a few megabytes (vocabularies go to assets); the bound keeps the
# parsed tree (about ten times the text in Python objects) within ordinary memory.
MAX_CONFIG_BYTES = 128 * 2**20
MAX_CONFIG_NODES = 10_000_000

ORDINARY = (ValueError, TypeError, OSError)


def parse_json(text, source, what="config.json"):
    """`json.loads(text)` with the text's size and nesting bounded, errors naming `source`
    (a path, or with `what=None` a description)."""
    where = f"{what} in {os.fspath(source)!r}" if what else source
    if len(text) > MAX_CONFIG_BYTES:
        raise ValueError(f"{where} is {len(text)} bytes long, over the limit of "
                         f"{MAX_CONFIG_BYTES} bytes for a model config.")
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{where} is not UTF-8 text ({e}).") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{where} is nested too deeply to parse (a model config nests at "
                         f"most {MAX_CONFIG_DEPTH} levels).") from None
    except (ValueError, TypeError) as e:
        raise ValueError(f"{where} is not valid JSON: {e}") from None


def read_json_file(path, what=None):
    """Parse the JSON file at `path`, reading no more than a config may hold."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ValueError(f"Cannot read {path!r}: {e}") from None
    return parse_json(text, path, what or os.path.basename(path))


_OPTIONAL_STR = ("module", "registered_name")


def check_config(config, source, what="the model config"):
    """Check a parsed model config before it is deserialized (see the module docstring)."""
    where = f"{what} in {os.fspath(source)!r}" if source is not None else what
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"{where} must be a JSON object with a string 'class_name' (a "
                         f"serialized model). Received: {_short(config)}")
    stack = [(config, 1, ())]
    nodes = 0
    while stack:
        node, depth, path = stack.pop()
        nodes += 1
        if depth > MAX_CONFIG_DEPTH:
            raise ValueError(f"{where} nests deeper than {MAX_CONFIG_DEPTH} levels (at "
                             f"{_path(path[:8])}...); refusing to load it.")
        if nodes > MAX_CONFIG_NODES:
            raise ValueError(f"{where} has more than {MAX_CONFIG_NODES} values; refusing to "
                             "load it.")
        if isinstance(node, dict):
            if "class_name" in node:
                _check_envelope(node, path, where)
            for key, value in node.items():
                if isinstance(value, (dict, list)):
                    stack.append((value, depth + 1, path + (key,)))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, (dict, list)):
                    stack.append((value, depth + 1, path + (i,)))


def _check_envelope(node, path, where):
    def bad(key, expected):
        raise ValueError(f"{where}: at {_path(path + (key,))}, expected {expected}, found "
                         f"{type(node[key]).__name__} {_short(node[key])}.")

    if not isinstance(node["class_name"], str):
        bad("class_name", "a string")
    for key in _OPTIONAL_STR:
        if node.get(key) is not None and not isinstance(node[key], str):
            bad(key, "a string or null")
    if "config" in node and not isinstance(node["config"], (dict, str, type(None))):
        bad("config", "an object")
    inner = node.get("config")
    if isinstance(inner, dict):
        for key in ("layers", "inbound_nodes"):
            if inner.get(key) is not None and not isinstance(inner[key], list):
                raise ValueError(f"{where}: at {_path(path + ('config', key))}, expected a "
                                 f"list, found {type(inner[key]).__name__} "
                                 f"{_short(inner[key])}.")
    for key in ("build_config", "compile_config"):
        if node.get(key) is not None and not isinstance(node[key], dict):
            bad(key, "an object or null")


def _path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}" if out else str(p)
    return out or "the top level"


def _short(value, n=80):
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------------------------------
# One load: the model budget, and what escapes turned into an ordinary error
# ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def loading(source, is_file=True):
    """Wrap the load of `source`: a path, or (`is_file=False`) a description of what is
    loaded, such as "model_from_json"."""
    name = os.fspath(source)
    try:
        with limits.model_budget(repr(name) if is_file else name):
            yield
    except Exception as e:  # noqa: BLE001 - every failure of a load ends here, named
        error = naming_the_file(e, name, is_file)
        if error is e:
            raise
        raise error from e


def naming_the_file(error, name, is_file=True):
    """`error` if it is ordinary and names the file, else an ordinary one that does."""
    text = str(error)
    if is_file:
        base = os.path.basename(name.rstrip("/\\")) or name
        if isinstance(error, ORDINARY) and base in text:
            return error
        prefix = f"Cannot load {name!r}"
    else:
        if isinstance(error, ORDINARY):
            return error
        prefix = name
    if isinstance(error, RecursionError):
        return ValueError(f"{prefix}: its model is nested or chained too deeply for this "
                          "loader (RecursionError).")
    if isinstance(error, MemoryError):
        return ValueError(f"{prefix}: it needs more memory than this machine has left "
                          f"(MemoryError: {text}).")
    if isinstance(error, KeyError):
        return ValueError(f"{prefix}: the key {text} is missing or invalid in it (the file "
                          "is damaged or was not written by Keras).")
    for cls in ORDINARY:
        if isinstance(error, cls):
            return cls(f"While loading {name!r}: {text}" if is_file else f"{prefix}: {text}")
    what = "the file" if is_file else "the config"
    return ValueError(f"{prefix}: {what} is damaged or invalid "
                      f"({type(error).__name__}: {text}).")
