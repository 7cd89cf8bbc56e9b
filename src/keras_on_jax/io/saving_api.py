"""`keras.saving` entry points: choose the format, then delegate.

| path / save_format             | format                                        |
|--------------------------------|-----------------------------------------------|
| `*.keras`, `"keras"`           | Keras 3 zip archive (`zipped=False`: folder)  |
| `*.h5`, `*.hdf5`, `"h5"`       | legacy HDF5 (Keras 2 / Keras 3 layout)        |
| no extension, `"tf"`/`"orbax"` | Orbax checkpoint folder (config + state)      |

`load_model` / `load_weights` also read Keras 3 `OrbaxCheckpoint` folders (latest step).

`load_model` sniffs the content: HDF5 by signature whatever the extension, zip archives,
unzipped archive folders, Orbax folders.
"""

from __future__ import annotations

import json
import os

from keras_on_jax import serialization
from keras_on_jax.io import files, guard


def _archive():
    # h5py and zipfile handling load on first use, not at `import keras_on_jax`.
    from keras_on_jax.io import keras_archive

    return keras_archive


def _weights():
    from keras_on_jax.io import weights_h5

    return weights_h5


def _path(filepath):
    if hasattr(filepath, "__fspath__") or isinstance(filepath, str):
        return os.fspath(filepath)
    raise TypeError(f"`filepath` must be a string or path-like. Received: {filepath!r}")


def _format_for_save(filepath, save_format):
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt in ("keras", "keras_v3", "v3"):
            return "keras"
        if fmt in ("h5", "hdf5"):
            return "h5"
        if fmt in ("tf", "orbax", "savedmodel", "dir"):
            return "orbax"
        raise ValueError(f"Unknown `save_format`: {save_format!r}. Expected 'keras', 'h5' or 'tf'.")
    lower = filepath.lower()
    if lower.endswith(".keras"):
        return "keras"
    if lower.endswith((".h5", ".hdf5")):
        return "h5"
    # Any other path is a checkpoint folder, as a SavedModel folder was in tf.keras: the
    # FAQ's `ModelCheckpoint('ckpt-loss={loss:.2f}')` names folders like `ckpt-loss=0.25`.
    return "orbax"


def _confirm_overwrite(filepath, overwrite):
    if overwrite or not os.path.exists(filepath):
        return True
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def save_model(model, filepath, overwrite=True, save_format=None, zipped=None, **kwargs):
    """Save a model (architecture, weights, compile config, optimizer state)."""
    include_optimizer = kwargs.pop("include_optimizer", True)
    kwargs.pop("save_traces", None)
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {sorted(kwargs)}")
    filepath = _path(filepath)
    fmt = _format_for_save(filepath, save_format)
    if zipped is False and fmt == "orbax" and save_format is None:
        fmt = "keras"  # Keras 3: `zipped=False` writes the unzipped archive folder
    if not _confirm_overwrite(filepath, overwrite):
        return
    if fmt == "keras":
        return _archive().save_archive(model, filepath, zipped=zipped is not False)
    if fmt == "h5":
        from keras_on_jax.io import legacy_h5

        return legacy_h5.save_model_h5(model, filepath, include_optimizer=include_optimizer)
    from keras_on_jax.io import orbax_dir

    return orbax_dir.save_model_dir(model, filepath)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved as `.keras`, legacy `.h5`, an archive folder or a checkpoint folder.

    A damaged or hostile file raises an ordinary exception naming it (see `io/guard.py`).
    """
    filepath = _path(filepath)
    with guard.loading(filepath):
        return _load_model(filepath, custom_objects, compile, safe_mode)


def _load_model(filepath, custom_objects, compile, safe_mode):
    if not os.path.exists(filepath):
        raise ValueError(f"File not found: filepath={filepath}. Please ensure the file is an "
                         "accessible `.keras` zip file, `.h5` file or model folder.")
    kind = files.sniff(filepath)
    if kind == "hdf5":
        from keras_on_jax.io import legacy_h5

        return legacy_h5.load_model_h5(filepath, custom_objects=custom_objects,
                                       compile=compile, safe_mode=safe_mode)
    if kind == "zip":
        return _archive().load_archive(filepath, custom_objects, compile, safe_mode)
    if kind == "dir":
        from keras_on_jax.io import orbax_dir

        if orbax_dir.is_checkpoint_dir(filepath):
            return orbax_dir.load_model_dir(filepath, custom_objects, compile, safe_mode)
        if os.path.exists(os.path.join(filepath, _archive().CONFIG)):
            return _archive().load_archive(filepath, custom_objects, compile, safe_mode)
        if orbax_dir.is_keras_orbax_checkpoint(filepath):  # keras.callbacks.OrbaxCheckpoint
            return orbax_dir.load_keras_orbax_model(filepath, custom_objects, compile, safe_mode)
        raise ValueError(f"Folder {filepath!r} is neither a model checkpoint folder, an Orbax "
                         "checkpoint nor an unzipped `.keras` archive (no config.json).")
    if filepath.lower().endswith(".keras"):
        raise ValueError(f"Cannot load {filepath!r}: it is not a zip archive (nor an HDF5 "
                         "file); the file is truncated or corrupted.")
    if filepath.lower().endswith((".h5", ".hdf5")):
        raise ValueError(f"Cannot load {filepath!r}: it does not start with the HDF5 signature; "
                         "the file is truncated or corrupted.")
    raise ValueError(f"File format not supported: filepath={filepath}. Keras supports `.keras` "
                     "zip files, legacy `.h5` files and model folders.")


def save_weights(model, filepath, overwrite=True, max_shard_size=None, **kwargs):
    """Save weights: `*.weights.h5` (Keras 3 layout, sharded with `max_shard_size`) or a
    legacy `*.h5` weights-only file (Keras 2 layout)."""
    save_format = kwargs.pop("save_format", None)
    kwargs.pop("options", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {sorted(kwargs)}")
    filepath = _path(filepath)
    if not getattr(model, "built", False) or not model.weights and not model.layers:
        if not getattr(model, "built", False):
            raise ValueError(f"You are calling `save_weights()` on model '{model.name}' before "
                             "it was built. Build it first (call it on data).")
    if not _confirm_overwrite(filepath, overwrite):
        return
    lower = filepath.lower()
    if max_shard_size is not None:
        if not lower.endswith(("weights.h5", "weights.json")):
            raise ValueError("With `max_shard_size`, the filename must end in `.weights.json` "
                             f"(or `.weights.h5`). Received: filepath={filepath}")
        return _weights().save_weights_h5(model, filepath, max_shard_size=max_shard_size)
    if lower.endswith(".weights.h5") and str(save_format).lower() not in ("h5", "hdf5"):
        return _weights().save_weights_h5(model, filepath)
    if lower.endswith((".h5", ".hdf5")) or str(save_format).lower() in ("h5", "hdf5"):
        from keras_on_jax.io import legacy_h5

        return legacy_h5.save_weights_h5(model, filepath)
    raise ValueError("The filename must end in `.weights.h5` (or `.h5` for the legacy layout). "
                     f"Received: filepath={filepath}")


def load_weights(model, filepath, skip_mismatch=False, by_name=False, **kwargs):
    """Load weights from `.weights.h5`, `.weights.json`, `.keras`, legacy `.h5` or a folder."""
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {sorted(kwargs)}")
    filepath = _path(filepath)
    with guard.loading(filepath):
        return _load_weights(model, filepath, skip_mismatch, by_name, objects_to_skip)


def _load_weights(model, filepath, skip_mismatch, by_name, objects_to_skip):
    if not os.path.exists(filepath):
        raise ValueError(f"File not found: filepath={filepath}.")
    kind = files.sniff(filepath)
    lower = filepath.lower()
    if kind == "json" or lower.endswith(".weights.json"):
        _no_by_name(by_name, filepath)
        return _weights().load_sharded(model, filepath, skip_mismatch, objects_to_skip or ())
    if kind == "zip":
        _no_by_name(by_name, filepath)
        return _archive().load_weights_from_archive(model, filepath, skip_mismatch,
                                                       objects_to_skip or ())
    if kind == "dir":
        from keras_on_jax.io import orbax_dir

        if orbax_dir.is_checkpoint_dir(filepath):
            return orbax_dir.load_weights_dir(model, filepath, skip_mismatch)
        if orbax_dir.is_keras_orbax_checkpoint(filepath):  # keras.callbacks.OrbaxCheckpoint
            return orbax_dir.load_keras_orbax_weights(model, filepath, skip_mismatch)
        return _archive().load_weights_from_archive(model, filepath, skip_mismatch,
                                                       objects_to_skip or ())
    if kind == "hdf5":
        from keras_on_jax.io import legacy_h5

        if legacy_h5.is_legacy_h5(filepath):
            if objects_to_skip:
                raise ValueError("`objects_to_skip` only works with Keras 3 weights files.")
            return legacy_h5.load_weights_h5(model, filepath, by_name=by_name,
                                             skip_mismatch=skip_mismatch)
        _no_by_name(by_name, filepath)
        return _weights().load_weights_h5(model, filepath, skip_mismatch, objects_to_skip or ())
    raise ValueError(f"Cannot load weights from {filepath!r}: it is neither an HDF5 file, a "
                     "`.keras` zip archive nor a `.weights.json` index (truncated or corrupted?).")


def _no_by_name(by_name, filepath):
    if by_name:
        raise ValueError("Invalid keyword arguments: `by_name` is only supported with legacy "
                         f"`.h5` weights files. Received: filepath={filepath}")


def model_to_json(model, **kwargs):
    from keras_on_jax.training.compile_config import serialize_compile_config

    config = serialization.serialize_keras_object(model)
    if "compile_config" not in config and hasattr(model, "get_compile_config"):
        config["compile_config"] = serialize_compile_config(model)
    return json.dumps(config, **kwargs)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """A model (uncompiled unless the JSON holds a compile config) from `to_json()` output."""
    with guard.loading("model_from_json", is_file=False):
        if not isinstance(json_string, (str, bytes, bytearray)):
            raise TypeError(f"`model_from_json` expects a JSON string. Received: "
                            f"{type(json_string).__name__}")
        where = "The JSON given to `model_from_json`"
        config = guard.parse_json(json_string, where, None)
        guard.check_config(config, None, where)
        config.pop("keras_version", None)
        config.pop("backend", None)
        return _archive().config_to_model(config, custom_objects=custom_objects, compile=True,
                                             safe_mode=safe_mode)
