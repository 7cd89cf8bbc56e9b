"""The Keras 3 `.keras` archive (zip), and its unzipped folder variant.

Members, as Keras 3 writes them (STORED): `metadata.json`, `config.json`,
`model.weights.h5`, then `assets/...`. Reading finds members by name; members with
absolute paths or `..` are refused, as are zip bombs and HDF5 links.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import tempfile
import zipfile

import h5py

from keras_on_jax import serialization
from keras_on_jax.backend import limits
from keras_on_jax.io import files, guard, weights_h5
from keras_on_jax.training.compile_config import compile_model_from_config, serialize_compile_config

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
ASSETS = "assets"
_MAX_RATIO = 100
_SMALL = 16 * 2**20  # members up to this size are never refused for their ratio
_MAX_MEMBERS = 100_000


def model_config_json(model):
    with_compile = serialization.serialize_keras_object(model)
    if "compile_config" not in with_compile and hasattr(model, "get_compile_config"):
        with_compile["compile_config"] = serialize_compile_config(model)
    return json.dumps(with_compile)


def metadata_json():
    return json.dumps({"keras_version": weights_h5.KERAS_VERSION,
                       "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})


def _zinfo(name, date=(1980, 1, 1, 0, 0, 0)):
    info = zipfile.ZipInfo(name, date_time=date)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    return info


# ---------------------------------------------------------------------------------------
# assets: `save_assets(dir)` / `load_assets(dir)` hooks, one folder per object at
# `assets/<the object's weights path>/` (spec 2.5)
# ---------------------------------------------------------------------------------------
def _asset_dir(root, path):
    return os.path.join(root, *path.split("/")) if path else root


def save_assets(model, root):
    """Call every object's `save_assets(dir)`; only files (no empty folders) are kept."""
    def fn(obj, path):
        if hasattr(obj, "save_assets") and not weights_h5._is_optimizer(obj):
            d = _asset_dir(root, path)
            os.makedirs(d, exist_ok=True)
            obj.save_assets(d)

    weights_h5.walk(model, fn)


def load_assets(model, root):
    """Call every object's `load_assets(dir)` (None where the archive has no folder for it)."""
    def fn(obj, path):
        if hasattr(obj, "load_assets") and not weights_h5._is_optimizer(obj):
            d = _asset_dir(root, path)
            obj.load_assets(d if os.path.isdir(d) else None)

    weights_h5.walk(model, fn)


def _asset_files(root):
    out = []
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            full = os.path.join(dirpath, name)
            out.append((os.path.relpath(full, root).replace(os.sep, "/"), full))
    return sorted(out)


def save_archive(model, filepath, zipped=True):
    config = model_config_json(model)
    weights = weights_h5.write_weights_to_bytes(model)
    if not zipped:
        with files.atomic_dir(filepath) as tmp:
            with open(os.path.join(tmp, METADATA), "w") as f:
                f.write(metadata_json())
            with open(os.path.join(tmp, CONFIG), "w") as f:
                f.write(config)
            with open(os.path.join(tmp, WEIGHTS), "wb") as f:
                f.write(weights)
            save_assets(model, os.path.join(tmp, ASSETS))
        return
    now = datetime.datetime.now().timetuple()[:6]
    with tempfile.TemporaryDirectory() as assets_root:
        save_assets(model, assets_root)
        with files.atomic_path(filepath) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr(_zinfo(METADATA), metadata_json())
                zf.writestr(_zinfo(CONFIG), config)
                zf.writestr(_zinfo(WEIGHTS, now), weights)
                for rel, full in _asset_files(assets_root):
                    with open(full, "rb") as f:
                        zf.writestr(_zinfo(f"{ASSETS}/{rel}", now), f.read())


def _check_members(zf, filepath):
    """Refuse members that would write outside the archive, appear twice (which one
    counts?), or would inflate far beyond what they hold (zip bombs), before reading."""
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise ValueError(f"Refusing to load {filepath!r}: it has {len(infos)} members, more "
                         f"than {_MAX_MEMBERS}.")
    seen = set()
    total = 0
    for info in infos:
        name = info.filename
        norm = name.replace("\\", "/")
        if (norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or "\0" in norm
                or ".." in norm.split("/")):
            raise ValueError(
                f"Refusing to load {filepath!r}: the archive member {name!r} has an absolute "
                "path or '..' (it would write outside the archive)."
            )
        if norm in seen:
            raise ValueError(f"Refusing to load {filepath!r}: the archive holds the member "
                             f"{name!r} twice.")
        seen.add(norm)
        # Keras stores members uncompressed; deflated JSON or weights shrink a few times,
        # not hundreds: a higher ratio on a large member is a decompression bomb.
        if info.file_size > _SMALL and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
            raise ValueError(f"Refusing to load {filepath!r}: member {name!r} declares "
                             f"{info.file_size} bytes from {info.compress_size} compressed "
                             f"(ratio over {_MAX_RATIO}: zip bomb guard).")
        total += info.file_size
    limits.check_total_size(total, f"Keras archive {filepath!r} (its members inflated)",
                            model=False)


def _open_zip(filepath):
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except Exception as e:  # noqa: BLE001 - zipfile raises many kinds on a damaged file
        raise ValueError(f"Cannot read Keras archive {os.fspath(filepath)!r}: it is not a valid "
                         f"zip file or it is truncated/corrupted ({type(e).__name__}: {e}).") from None
    try:
        _check_members(zf, filepath)
    except BaseException:
        zf.close()
        raise
    return zf


def _read_member(zf, name, filepath):
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"Keras archive {os.fspath(filepath)!r} has no {name!r} member; "
                         f"members: {zf.namelist()[:20]}") from None
    except Exception as e:  # noqa: BLE001 - zlib.error, BadZipFile (CRC), struct.error, ...
        raise ValueError(f"Keras archive {os.fspath(filepath)!r} is corrupted: cannot read "
                         f"member {name!r} ({type(e).__name__}: {e}).") from None


def _parse_config(text, filepath):
    config = guard.parse_json(text, filepath, CONFIG)
    guard.check_config(config, filepath, CONFIG)
    return config


def config_to_model(config, custom_objects=None, compile=True, safe_mode=True):
    """Model from a config.json dict: from_config, build, compile (optimizer built)."""
    config = dict(config)
    compile_config = config.pop("compile_config", None)
    with serialization.SafeModeScope(safe_mode):
        model = serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                       safe_mode=safe_mode)
        if compile and compile_config:
            compile_model_from_config(model, compile_config, custom_objects)
    return model


def load_archive(filepath, custom_objects=None, compile=True, safe_mode=True):
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        return _load_dir(filepath, custom_objects, compile, safe_mode)
    with _open_zip(filepath) as zf:
        config = _parse_config(_read_member(zf, CONFIG, filepath), filepath)
        model = config_to_model(config, custom_objects, compile, safe_mode)
        names = zf.namelist()
        if WEIGHTS not in names:
            if "model.weights.npz" in names:
                raise ValueError(f"Keras archive {filepath!r} stores its weights as "
                                 "model.weights.npz (pickled arrays), which is not loaded for "
                                 "safety.")
            raise ValueError(f"Keras archive {filepath!r} has no {WEIGHTS} member.")
        data = _read_member(zf, WEIGHTS, filepath)
        _load_weights_bytes(model, data, filepath)
        with tempfile.TemporaryDirectory() as root:
            for name in zf.namelist():
                norm = name.replace("\\", "/")
                if not norm.startswith(ASSETS + "/") or norm.endswith("/"):
                    continue
                target = os.path.join(root, *norm.split("/")[1:])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(_read_member(zf, name, filepath))
            load_assets(model, root)
    return model


def _load_weights_bytes(model, data, filepath, skip_mismatch=False, objects_to_skip=()):
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ValueError(f"The weights ({WEIGHTS}) in {filepath!r} are not a valid HDF5 file "
                         f"or are truncated/corrupted ({e}).") from None
    try:
        weights_h5._check_no_links(f, filepath)
        try:
            lookup = weights_h5.h5_lookup(f, weights_h5.strings_checker(data, filepath))
            weights_h5.read_weights(model, lookup, filepath, skip_mismatch, objects_to_skip)
        except (OSError, KeyError, RuntimeError) as e:
            raise ValueError(f"The weights in {filepath!r} are corrupted: {e}") from None
    finally:
        f.close()


def _load_dir(path, custom_objects, compile, safe_mode):
    cpath = os.path.join(path, CONFIG)
    config = guard.read_json_file(cpath)
    guard.check_config(config, cpath)
    model = config_to_model(config, custom_objects, compile, safe_mode)
    wpath = os.path.join(path, WEIGHTS)
    if not os.path.exists(wpath):
        raise ValueError(f"Model folder {path!r} has no {WEIGHTS}.")
    weights_h5.load_weights_h5(model, wpath)
    load_assets(model, os.path.join(path, ASSETS))
    return model


def load_weights_from_archive(model, filepath, skip_mismatch=False, objects_to_skip=()):
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        weights_h5.load_weights_h5(model, os.path.join(filepath, WEIGHTS), skip_mismatch,
                                   objects_to_skip)
        return
    with _open_zip(filepath) as zf:
        data = _read_member(zf, WEIGHTS, filepath)
    _load_weights_bytes(model, data, filepath, skip_mismatch, objects_to_skip)
