"""Damaged and hostile model files made from small valid ones, and the child processes that
load them (issue 16: a file must give the model or an ordinary error naming it).

`make_cases(root, scale, seed)` writes the files and returns the cases; `run_cases(...)`
loads them in child processes under a memory limit (`RLIMIT_AS`) and a per-file timeout,
several files per child. A child that dies (abort, segfault, killed for a hang) is
restarted after the file it died on, which is recorded as a crash or a hang.

Outcomes: "loaded"; "clean" (a ValueError/TypeError/OSError whose message names the file;
for `model_from_json`, which has no file, any of those); "unnamed" (one of those without
the file's name); "raw:<type>" (any other exception); "crash:<code>"; "hang".
A case expects "ok" (loaded or clean), "refused" (clean) or "loaded".

Run as a script (`python hostile_files.py child CASES START PROGRESS`) it is the child.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
import zipfile

def _read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


ALLOWED = {"ok": {"loaded", "clean"}, "refused": {"clean"}, "loaded": {"loaded"}}
# A normal load in the child peaks near 1.6 GiB of address space (JAX and XLA reserve
# much more than they touch); 4 GiB leaves room and still stops a runaway allocation.
MEMORY_LIMIT = 4 * 2**30
BASES = ("seq", "func")


# ---------------------------------------------------------------------------------------
# The valid files every case starts from
# ---------------------------------------------------------------------------------------
def build_base(kj, name):
    if name == "seq":
        model = kj.Sequential([kj.Input((4,)), kj.layers.Dense(8, activation="relu", name="d1"),
                               kj.layers.BatchNormalization(name="bn"),
                               kj.layers.Dense(3, name="d2")], name="seq")
    else:
        tokens = kj.Input((6,), dtype="int32", name="tokens")
        extra = kj.Input((3,), name="extra")
        x = kj.layers.Embedding(20, 4, name="emb")(tokens)
        x = kj.layers.Conv1D(5, 2, activation="relu", name="conv")(x)
        x = kj.layers.GlobalAveragePooling1D(name="pool")(x)
        y = kj.layers.Dense(5, name="side")(extra)
        x = kj.layers.Concatenate(name="cat")([x, y])
        out = kj.layers.Dense(2, name="head")(x)
        model = kj.Model([tokens, extra], out, name="func")
    model.compile(optimizer="adam", loss="mse")
    return model


def write_bases(kj, root):
    """{base: {kind: path}} for kinds keras, h5, weights, legacy_weights, json, ckpt (our
    checkpoint folder) and orbax (a Keras 3 `OrbaxCheckpoint` folder)."""
    import numpy as np

    out = {}
    for base in BASES:
        model = build_base(kj, base)
        d = os.path.join(root, "base")
        os.makedirs(d, exist_ok=True)
        paths = {"keras": os.path.join(d, f"{base}.keras"), "h5": os.path.join(d, f"{base}.h5"),
                 "weights": os.path.join(d, f"{base}.weights.h5"),
                 "legacy_weights": os.path.join(d, f"{base}_legacy.h5"),
                 "json": os.path.join(d, f"{base}.json"), "ckpt": os.path.join(d, f"{base}_ckpt")}
        model.save(paths["keras"])
        model.save(paths["h5"])
        model.save_weights(paths["weights"])
        model.save_weights(paths["legacy_weights"])
        with open(paths["json"], "w") as f:
            f.write(model.to_json())
        model.save(paths["ckpt"])
        paths["orbax"] = os.path.join(d, f"{base}_orbax")
        x = ([np.zeros((4, 6), "int32"), np.ones((4, 3), "float32")] if base == "func"
             else np.ones((4, 4), "float32"))
        y = np.zeros((4, 2 if base == "func" else 3), "float32")
        model.fit(x, y, epochs=1, verbose=0, callbacks=[kj.callbacks.OrbaxCheckpoint(
            paths["orbax"], save_on_background=False, save_freq="epoch")])
        out[base] = paths
    return out


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------
class _Cases:
    def __init__(self, root):
        self.root = root
        self.cases = []
        self.count = 0

    def new_path(self, category, suffix):
        self.count += 1
        d = os.path.join(self.root, category)
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, f"c{self.count:05d}{suffix}")

    def add(self, category, op, path, base, expect="ok", match=None, note=""):
        self.cases.append({"id": f"{category}/{os.path.basename(path)}", "category": category,
                           "op": op, "path": path, "base": base, "expect": expect,
                           "match": match, "note": note})


def _suffix(path):
    for s in (".weights.h5", ".keras", ".h5", ".json"):
        if path.endswith(s):
            return s
    return ""


_OP_FOR = {"keras": "load_model", "h5": "load_model", "weights": "load_weights",
           "legacy_weights": "load_weights", "json": "model_from_json", "ckpt": "load_model"}


def make_cases(root, scale=1, seed=0, kj=None):
    """Write the damaged files under `root` and return the cases (list of dicts)."""
    if kj is None:
        import keras_on_jax as kj
    rng = random.Random(seed)
    bases = write_bases(kj, root)
    c = _Cases(root)
    for base, paths in bases.items():
        for kind in ("keras", "h5", "weights", "legacy_weights"):
            _bytes_damage(c, rng, base, kind, paths[kind], scale)
        _member_damage(c, rng, base, paths["keras"], scale)
        _dir_damage(c, rng, base, "ckpt", paths["ckpt"], scale)
        _dir_damage(c, rng, base, "orbax", paths["orbax"], scale)
        _zip_tricks(c, base, paths["keras"])
        _hdf5_tricks(c, base, paths)
        _config_mutations(c, rng, base, paths, scale)
    return c.cases, bases


def _bytes_damage(c, rng, base, kind, path, scale):
    data = _read(path)
    size = len(data)
    op = _OP_FOR[kind]
    ops = [op]
    if kind == "weights":
        ops = ["load_weights", "load_weights_skip"]
    elif kind == "legacy_weights":
        ops = ["load_weights_by_name", "load_weights_skip"]
    n_trunc = 6 * scale
    offsets = sorted({0, 1, 8, 64, size - 1} | {size * k // (n_trunc + 1) for k in range(1, n_trunc + 1)})
    for i, off in enumerate(offsets):
        p = c.new_path(f"truncate_{kind}", _suffix(path))
        with open(p, "wb") as f:
            f.write(data[:off])
        c.add(f"truncate_{kind}", ops[i % len(ops)], p, base, note=f"first {off} of {size} bytes")
    for i in range(10 * scale):
        buf = bytearray(data)
        burst = rng.choice((1, 1, 4, 16))
        pos = rng.randrange(size - burst)
        for j in range(burst):
            buf[pos + j] ^= rng.randrange(1, 256)
        p = c.new_path(f"flip_{kind}", _suffix(path))
        with open(p, "wb") as f:
            f.write(bytes(buf))
        c.add(f"flip_{kind}", ops[i % len(ops)], p, base, note=f"{burst} byte(s) at {pos}")


def _member_damage(c, rng, base, path, scale):
    """Byte flips inside a `.keras` member, the zip rewritten with valid checksums (so the
    damage reaches the JSON and HDF5 readers instead of the zip's CRC check)."""
    members = _members(path)
    for i in range(10 * scale):
        name = "config.json" if rng.random() < 0.3 else "model.weights.h5"
        data = dict(members)[name]
        buf = bytearray(data)
        burst = rng.choice((1, 1, 4, 16))
        pos = rng.randrange(len(buf) - burst)
        for j in range(burst):
            buf[pos + j] ^= rng.randrange(1, 256)
        p = c.new_path("flip_keras_member", ".keras")
        _write_zip(p, [(n, bytes(buf) if n == name else d) for n, d in members])
        c.add("flip_keras_member", "load_model" if i % 2 == 0 else "load_weights", p, base,
              note=f"{burst} byte(s) at {pos} of {name}")


def _dir_damage(c, rng, base, kind, path, scale):
    inner = []
    for d, _, names in os.walk(path):
        inner.extend(os.path.relpath(os.path.join(d, n), path) for n in names)
    inner.sort()
    for i in range(4 * scale):
        target = rng.choice(inner)
        how = rng.choice(("truncate", "flip", "delete", "empty"))
        p = c.new_path(f"damage_{kind}", "")
        shutil.copytree(path, p)
        full = os.path.join(p, target)
        data = _read(full)
        if how == "delete":
            os.remove(full)
        else:
            if how == "truncate":
                data = data[:rng.randrange(max(len(data), 1))]
            elif how == "flip" and data:
                buf = bytearray(data)
                buf[rng.randrange(len(buf))] ^= rng.randrange(1, 256)
                data = bytes(buf)
            else:
                data = b""
            with open(full, "wb") as f:
                f.write(data)
        c.add(f"damage_{kind}", "load_model" if i % 2 == 0 else "load_weights", p, base,
              note=f"{how} {target}")


# ---- zip ---------------------------------------------------------------------------------
def _members(path):
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i.filename)) for i in zf.infolist()]


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    import warnings

    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", compression=compression) as zf:
        warnings.simplefilter("ignore")  # duplicate names are one of the tricks
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)


def _patch_central(data, name, **fields):
    """Rewrite fields of `name`'s central-directory entry (sizes, method, flags)."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46:pos + 46 + name_len]) == name.encode():
            if "flags" in fields:
                struct.pack_into("<H", buf, pos + 8, fields["flags"])
            if "method" in fields:
                struct.pack_into("<H", buf, pos + 10, fields["method"])
            if "file_size" in fields:
                struct.pack_into("<I", buf, pos + 24, fields["file_size"])
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def _zip_tricks(c, base, path):
    members = _members(path)
    config = dict(members)["config.json"]

    def add(label, members_, expect, match=None, compression=zipfile.ZIP_STORED, raw=None):
        p = c.new_path("zip_tricks", ".keras")
        if raw is not None:
            with open(p, "wb") as f:
                f.write(raw)
        else:
            _write_zip(p, members_, compression)
        c.add("zip_tricks", "load_model", p, base, expect, match, note=label)
        return p

    add("parent member", members + [("../evil.txt", b"x")], "refused", r"\.\.")
    add("absolute member", members + [("/tmp/evil.txt", b"x")], "refused", "absolute")
    add("asset escaping", members + [("assets/../../evil.txt", b"x")], "refused", r"\.\.")
    add("drive letter", members + [("C:/evil.txt", b"x")], "refused", "absolute")
    add("duplicate config", members + [("config.json", b"{}")], "refused", "twice")
    add("no config", [m for m in members if m[0] != "config.json"], "refused", "config.json")
    add("no weights", [m for m in members if m[0] != "model.weights.h5"], "refused",
        "model.weights.h5")
    add("npz weights", [m for m in members if m[0] != "model.weights.h5"]
        + [("model.weights.npz", b"PK\x05\x06" + b"\0" * 18)], "refused", "npz")
    add("empty zip", [], "refused")
    add("weights are a zip", [(n, d if n != "model.weights.h5" else _read(path))
                              for n, d in members], "refused")
    add("config is a list", [(n, d if n != "config.json" else b"[1, 2]") for n, d in members],
        "refused", "class_name")
    # A real bomb: 64 MiB of JSON whitespace deflates to about 64 KiB.
    bomb = config + b" " * (64 * 2**20)
    p = c.new_path("zip_tricks", ".keras")
    with zipfile.ZipFile(p, "w") as zf:
        for n, d in members:
            info = zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if n == "config.json" else zipfile.ZIP_STORED
            zf.writestr(info, bomb if n == "config.json" else d)
    c.add("zip_tricks", "load_model", p, base, "refused", "bomb", "deflate bomb")
    raw = _read(path)
    add("declares 4 GiB", None, "refused", raw=_patch_central(raw, "model.weights.h5",
                                                              file_size=2**32 - 1))
    add("unknown method", None, "refused", raw=_patch_central(raw, "config.json", method=99))
    add("encrypted flag", None, "refused", raw=_patch_central(raw, "config.json", flags=1))
    # Deflated members whose compressed bytes are damaged: zlib errors, CRC errors.
    buf = io.BytesIO()
    _write_zip_deflated(buf, members)
    deflated = buf.getvalue()
    start = deflated.find(b"config.json") + len("config.json")
    for k, off in enumerate((4, 40, 200)):
        dmg = bytearray(deflated)
        for j in range(8):
            dmg[start + off + j] ^= 0xA5
        add(f"damaged deflate {k}", None, "refused", raw=bytes(dmg))


def _write_zip_deflated(fileobj, members):
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


# ---- HDF5 --------------------------------------------------------------------------------
def _datasets(f):
    import h5py

    out = []
    f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return out


def _first_kernel(names):
    return next(n for n in names if n.endswith("/0") or "kernel" in n)


def _hdf5_tricks(c, base, paths):
    import h5py
    import numpy as np

    other = os.path.join(c.root, "other.h5")
    if not os.path.exists(other):
        with h5py.File(other, "w") as f:
            f["secret"] = np.arange(96, dtype="float32")

    def trick(kind, label, edit, expect, match=None):
        src = paths[kind]
        p = c.new_path(f"hdf5_{kind}", _suffix(src))
        shutil.copy(src, p)
        with h5py.File(p, "r+") as f:
            edit(f, _datasets(f))
        op = _OP_FOR[kind]
        c.add(f"hdf5_{kind}", op, p, base, expect, match, note=label)
        # `skip_mismatch` may skip a damaged variable with a warning (the model stays
        # valid); links and other files are refused all the same.
        skip = "ok" if expect == "refused" and match != links else expect
        if kind == "legacy_weights":
            c.add(f"hdf5_{kind}", "load_weights_by_name", p, base, skip, match,
                  note=label + " (by_name, skip_mismatch)")
        elif kind == "weights":
            c.add(f"hdf5_{kind}", "load_weights_skip", p, base, skip, match,
                  note=label + " (skip_mismatch)")

    def replace(f, name, make):
        shape, dtype = f[name].shape, f[name].dtype
        del f[name]
        make(f, name, shape, dtype)

    links = "links|external or virtual"
    for kind in ("weights", "h5", "legacy_weights"):
        trick(kind, "external link", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.__setitem__(
                n, h5py.ExternalLink(other, "/secret"))), "refused", links)
        trick(kind, "dangling soft link", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.__setitem__(
                n, h5py.SoftLink("/nowhere"))), "refused", links)
        trick(kind, "external storage", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_dataset(
                n, shape=s, dtype=d, external=[(other, 0, h5py.h5f.UNLIMITED)])),
            "refused", links)
        trick(kind, "dataset is a group", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_group(n)), "refused")
        trick(kind, "strings", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_dataset(
                n, data=np.array([b"x"] * 4))), "refused")
        trick(kind, "dangling references", lambda f, ds: _dangling_refs(f, _first_kernel(ds)),
              "refused")
        trick(kind, "16 TiB declared", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_dataset(
                n, shape=(2**21, 2**21), dtype="float32", chunks=(1, 8))), "refused",
            r"TiB|memory|bytes")
        trick(kind, "wrong shape", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_dataset(
                n, data=np.ones(tuple(x + 1 for x in s), d))), "refused",
            r"shape")
        trick(kind, "NaN and Inf", lambda f, ds: [
            f[n].__setitem__((), np.where(np.arange(f[n].size).reshape(f[n].shape) % 2,
                                          np.nan, np.inf).astype(f[n].dtype))
            for n in ds if f[n].dtype.kind == "f" and f[n].size], "loaded")
        trick(kind, "float64 values", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_dataset(
                n, data=np.ones(s, "float64"))), "loaded")
        trick(kind, "virtual dataset", lambda f, ds: replace(
            f, _first_kernel(ds), lambda f, n, s, d: f.create_virtual_dataset(
                n, _virtual_layout(other, s))), "refused", links)
    trick("legacy_weights", "layer_names lists a missing layer", lambda f, ds: f.attrs.__setitem__(
        "layer_names", np.array([b"ghost"] + [str(n).encode() if isinstance(n, str) else bytes(n)
                                             for n in f.attrs["layer_names"]])), "refused", "ghost")
    trick("legacy_weights", "weight_names are numbers", lambda f, ds: [
        f[k].attrs.__setitem__("weight_names", np.arange(3)) for k in f if len(f[k].attrs)],
        "refused")
    trick("h5", "model_config missing", lambda f, ds: f.attrs.__delitem__("model_config"),
          "refused", "model config")
    trick("h5", "model_config garbage", lambda f, ds: f.attrs.__setitem__(
        "model_config", b"\xff\xfe{{not json"), "refused")
    trick("h5", "training_config garbage", lambda f, ds: f.attrs.__setitem__(
        "training_config", b"[1, 2"), "refused", "training_config")
    # Found by the sweep: HDF5 loops forever on a global heap whose size field grew, and
    # crashes reading a string attribute whose type bits say "variable-length of kind 2".
    raw_tricks = [("global heap size damaged", b"GCOL\x01\x00\x00\x00", 9, 0x2E, "global heap"),
                  ("attribute type damaged", b"weight_names\x00\x00\x00\x00\x19\x01", 17, 0x83,
                   "should hold strings or numbers")]
    for kind in ("h5", "legacy_weights"):
        for label, marker, offset, xor, match in raw_tricks:
            raw = bytearray(_read(paths[kind]))
            at = raw.find(marker)
            if at < 0:
                continue
            raw[at + offset] ^= xor
            p = c.new_path(f"hdf5_{kind}", ".h5")
            with open(p, "wb") as f:
                f.write(bytes(raw))
            c.add(f"hdf5_{kind}", _OP_FOR[kind], p, base, "refused", match, note=label)
    trick("weights", "hard-link cycle", lambda f, ds: f[os.path.dirname(
        _first_kernel(ds))].__setitem__("loop", f["/"]), "ok")
    trick("weights", "extra variable", lambda f, ds: f.create_dataset(
        os.path.dirname(_first_kernel(ds)) + "/99", data=np.ones(2)), "refused")
    trick("weights", "variables missing", lambda f, ds: f.__delitem__(
        os.path.dirname(_first_kernel(ds))), "refused")


def _virtual_layout(other, shape):
    import h5py

    layout = h5py.VirtualLayout(shape=(96,), dtype="float32")
    layout[:] = h5py.VirtualSource(other, "secret", shape=(96,))
    return layout


def _dangling_refs(f, name):
    import h5py

    g = f.create_group("doomed")
    refs = [g.ref] * 4
    del f[name]
    f.create_dataset(name, data=refs, dtype=h5py.ref_dtype)
    del f["doomed"]


# ---- configs -----------------------------------------------------------------------------
_PALETTE = (None, True, -1, 0, 2**31, 10**12, 1.5, float("nan"), "", "x" * 2000, [], {},
            [1, 2], {"class_name": "Dense", "config": {}}, "relu", [None, 10**12])


def _nodes(tree):
    """(parent, key) of every value in a JSON tree."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            out.append((node, k))
            if isinstance(v, (dict, list)):
                stack.append(v)
    return out


def _layer(config, index):
    return config["config"]["layers"][index]


def _targeted(config):
    """(label, edit, expect, match) mutations of a model config."""
    dense = next(i for i, entry in enumerate(config["config"]["layers"])
                 if entry["class_name"] == "Dense")

    def set_in(path, value):
        def edit(cfg):
            node = cfg
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = value
        return edit

    def layer_key(key, value, sub="config"):
        def edit(cfg):
            entry = _layer(cfg, dense)
            (entry[sub] if sub else entry)[key] = value
        return edit

    def nest(depth):
        def edit(cfg):
            x = "n"
            for _ in range(depth):
                x = {"name": x}
            _layer(cfg, dense)["config"]["name"] = x
        return edit

    size = r"Cannot create variable .*kernel.* with shape .*1000000000000.* TiB"
    out = [
        ("units 10**12", layer_key("units", 10**12), "refused", size),
        ("units 2**31", layer_key("units", 2**31), "ok", None),
        ("units -1", layer_key("units", -1), "refused", "units"),
        ("units '8'", layer_key("units", "8"), "ok", None),
        ("units None", layer_key("units", None), "refused", None),
        ("units list", layer_key("units", [8]), "refused", None),
        ("units NaN", layer_key("units", float("nan")), "refused", None),
        ("build shape 10**12", layer_key("build_config", {"input_shape": [None, 10**12]}, None),
         "refused", r"1000000000000"),
        ("build_config string", layer_key("build_config", "x", None), "refused", "build_config"),
        ("class_name int", layer_key("class_name", 5, None), "refused", "class_name"),
        ("unknown class", layer_key("class_name", "NoSuchLayer", None), "refused", "NoSuchLayer"),
        ("config list", layer_key("config", [1, 2], None), "refused", "config"),
        ("layers dict", set_in(("config", "layers"), {}), "refused", "layers"),
        ("no layers", set_in(("config", "layers"), []), "ok", None),
        ("name nested 500", nest(500), "refused", "nests deeper"),
        ("name 1 MB", layer_key("name", "n" * 2**20), "ok", None),
        ("activation os.system", layer_key("activation", {
            "module": "os", "class_name": "function", "config": "system",
            "registered_name": "function"}), "refused", None),
        ("activation eval", layer_key("activation", "eval"), "refused", None),
        ("lambda bytecode", set_in(("config", "layers", dense), {
            "module": "keras.layers", "class_name": "Lambda", "config": {
                "name": "lam", "function": {"class_name": "__lambda__", "config": {
                    "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAwAAAKkA"
                            "KQHaAXRyAgAAAHICAAAA+gg8c3RyaW5nPtoIPGxhbWJkYT4BAAAAcwAAAAA=",
                    "defaults": None, "closure": None}}}}), "refused", "lambda|safe")
    ]
    inbound = [i for i, entry in enumerate(config["config"]["layers"]) if entry.get("inbound_nodes")]
    if inbound:  # a Functional graph: break its links
        first, second = inbound[0], inbound[1]

        def history(value, index=first):
            def edit(cfg):
                node = _layer(cfg, index)["inbound_nodes"][0]["args"][0]
                node = node[0] if isinstance(node, list) else node
                node["config"]["keras_history"] = value
            return edit

        second_name = config["config"]["layers"][second]["name"]
        out += [
            ("inbound cycle", history([second_name, 0, 0]), "refused", "loops"),
            ("inbound from a missing layer", history(["ghost", 0, 0]), "refused", "ghost"),
            ("inbound node 10**12", history(["tokens", 10**12, 0]), "refused", None),
            ("inbound tensor 7", history(["tokens", 0, 7]), "refused", None),
            ("inbound history garbage", history("x"), "refused", None),
            ("output from a missing layer", set_in(("config", "output_layers"), ["ghost", 0, 0]),
             "refused", "ghost"),
            ("input_layers a number", set_in(("config", "input_layers"), 5), "refused", None),
        ]
    return out


def _chain_config(kj, n):
    x = inp = kj.Input((4,), name="chain_in")
    for _ in range(n):
        x = kj.layers.Activation("relu")(x)
    return json.loads(kj.Model(inp, x, name="chain").to_json())


def _config_mutations(c, rng, base, paths, scale):
    with open(paths["json"]) as f:
        original = json.load(f)
    mutations = list(_targeted(original))
    for i in range(8 * scale):
        def edit(cfg, seed=rng.randrange(2**32)):
            r = random.Random(seed)
            for _ in range(r.choice((1, 1, 3))):
                parent, key = r.choice(_nodes(cfg))
                if r.random() < 0.2:  # bury the value under 50 to 2000 levels
                    value = parent[key]
                    for _ in range(r.randrange(50, 2000)):
                        value = [value] if r.random() < 0.5 else {"config": value}
                    parent[key] = value
                else:
                    parent[key] = copy.deepcopy(r.choice(_PALETTE))
        mutations.append((f"random {i}", edit, "ok", None))
    for label, edit, expect, match in mutations:
        cfg = copy.deepcopy(original)
        edit(cfg)
        _carry_config(c, base, paths, cfg, label, expect, match)
    # Text-level: nesting beyond what the JSON parser itself would recurse through.
    text = json.dumps(original)
    deep = text.replace('"name": "', '"name": ' + '{"name": ' * 100000 + '"', 1)
    deep = deep.replace('", "trainable"', '"' + "}" * 100000 + ', "trainable"', 1)
    _carry_text(c, base, paths, deep, "name nested 100000", "refused", "nest")
    huge = re.sub(r'"units": \d+', '"units": ' + "9" * 5000, text, count=1)
    _carry_text(c, base, paths, huge, "units of 5000 digits", "refused", "digits")


def _carry_config(c, base, paths, cfg, label, expect, match):
    text = json.dumps(cfg) if _depth(cfg) < 500 else _dumps_deep(cfg)
    _carry_text(c, base, paths, text, label, expect, match)


def _depth(tree):
    best, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return best


def _dumps_deep(tree):
    """json.dumps without recursion, for configs nested deeper than Python recurses."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and node in ("\0]", "\0}", "\0,", "\0:"):
            out.append(node[1])
        elif isinstance(node, dict):
            stack.append("\0}")
            items = list(node.items())
            for i, (k, v) in enumerate(reversed(items)):
                stack.append(v)
                stack.append("\0:")
                stack.append(("key", k))
                if i < len(items) - 1:
                    stack.append("\0,")
            out.append("{")
        elif isinstance(node, list):
            stack.append("\0]")
            for i, v in enumerate(reversed(node)):
                stack.append(v)
                if i < len(node) - 1:
                    stack.append("\0,")
            out.append("[")
        elif isinstance(node, tuple) and node[:1] == ("key",):
            out.append(json.dumps(node[1]))
        else:
            out.append(json.dumps(node))
    return "".join(out)


def _carry_text(c, base, paths, text, label, expect, match):
    """The same config in the three places a config is read from: .keras, .h5, JSON."""
    p = c.new_path("config_json", ".json")
    with open(p, "w") as f:
        f.write(text)
    c.add("config_json", "model_from_json", p, base, expect, match, note=label)
    p = c.new_path("config_keras", ".keras")
    _write_zip(p, [(n, d if n != "config.json" else text.encode()) for n, d in
                   _members(paths["keras"])])
    c.add("config_keras", "load_model", p, base, expect, match, note=label)
    import h5py

    p = c.new_path("config_h5", ".h5")
    shutil.copy(paths["h5"], p)
    with h5py.File(p, "r+") as f:
        # The legacy file holds a Keras-2-form config; the Keras 3 form is read as well.
        f.attrs["model_config"] = text.encode()
        f.attrs["keras_version"] = "3.15.1"
    c.add("config_h5", "load_model", p, base, expect, match, note=label)


def add_chain_case(c_cases, root, kj, n=1100):
    """A valid Functional chain longer than Python's recursion limit, with its layers in
    order and reversed: both must load (and the reversed one in linear time)."""
    config = _chain_config(kj, n)
    for order in ("in_order", "reversed"):
        p = os.path.join(root, f"chain_{n}_{order}.json")
        if order == "reversed":
            config["config"]["layers"].reverse()
        with open(p, "w") as f:
            json.dump(config, f)
        c_cases.append({"id": f"chain/{os.path.basename(p)}", "category": "chain",
                        "op": "model_from_json", "path": p, "base": "seq", "expect": "loaded",
                        "match": None, "note": f"{n} activations, {order}"})


# ---------------------------------------------------------------------------------------
# The child: load each case, report its outcome
# ---------------------------------------------------------------------------------------
def _child(cases_file, start, progress_file, memory_limit):
    import resource
    import warnings

    # Set here, before JAX loads (a parent's preexec_fn is unsafe when it runs threads).
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    warnings.simplefilter("ignore")
    import keras_on_jax as kj

    with open(cases_file) as f:
        payload = json.load(f)
    cases, bases = payload["cases"], payload["bases"]
    targets = {}

    def target(base):
        if base not in targets:
            targets[base] = kj.models.model_from_json(_read(bases[base]["json"], "r"))
        return targets[base]

    out = open(progress_file, "a", buffering=1)
    for i in range(start, len(cases)):
        case = cases[i]
        out.write(json.dumps({"start": i}) + "\n")
        t = time.time()
        matched = None
        try:
            _load(kj, case, target)
            outcome, message = "loaded", ""
        except Exception as e:  # noqa: BLE001 - classified, that is the point
            outcome, message = _classify(case, e), f"{type(e).__name__}: {e}"
            if case["match"]:
                matched = re.search(case["match"], message) is not None
        out.write(json.dumps({"done": i, "outcome": outcome, "message": message[:600],
                              "matched": matched, "seconds": round(time.time() - t, 3)}) + "\n")
    out.close()


def _load(kj, case, target):
    op, path = case["op"], case["path"]
    if op == "load_model":
        kj.saving.load_model(path)
    elif op == "model_from_json":
        with open(path) as f:
            text = f.read()
        kj.models.model_from_json(text)
    else:
        model = target(case["base"])
        kwargs = {"load_weights_skip": {"skip_mismatch": True},
                  "load_weights_by_name": {"by_name": True, "skip_mismatch": True}}.get(op, {})
        model.load_weights(path, **kwargs)


def _classify(case, error):
    if not isinstance(error, (ValueError, TypeError, OSError)):
        return f"raw:{type(error).__name__}"
    if case["op"] == "model_from_json":
        return "clean"
    name = os.path.basename(case["path"].rstrip("/"))
    return "clean" if name in str(error) else "unnamed"


# ---------------------------------------------------------------------------------------
# The parent: children with a memory limit, restarted past a crash or hang
# ---------------------------------------------------------------------------------------
def run_cases(cases, bases, workdir, children=2, case_timeout=60, memory_limit=MEMORY_LIMIT):
    """Outcome records (case + outcome, message, seconds), in the order of `cases`."""
    shards = [list(range(k, len(cases), children)) for k in range(children)]
    procs = []
    for k, idx in enumerate(shards):
        if not idx:
            continue
        cases_file = os.path.join(workdir, f"cases_{k}.json")
        with open(cases_file, "w") as f:
            json.dump({"cases": [cases[i] for i in idx], "bases": bases}, f)
        procs.append(_Child(cases_file, os.path.join(workdir, f"progress_{k}.jsonl"), idx,
                            case_timeout, memory_limit))
    results = {}
    while procs:
        for p in list(procs):
            if p.step(results):
                procs.remove(p)
        time.sleep(0.2)
    return [dict(cases[i], **results[i]) for i in range(len(cases))]


class _Child:
    """One shard of the cases, loaded by a child process restarted after a failure."""

    def __init__(self, cases_file, progress_file, index, case_timeout, memory_limit):
        self.cases_file, self.progress_file, self.index = cases_file, progress_file, index
        self.log_file = progress_file + ".stderr"
        self.case_timeout, self.memory_limit = case_timeout, memory_limit
        self.next = 0  # the next case (position in this shard) to hand to a child
        self.read = 0  # lines of the progress file already read
        self.in_flight = None
        self.proc = None
        self.last = time.time()
        open(progress_file, "w").close()
        self._start()

    def _start(self):
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        with open(self.log_file, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "child", self.cases_file,
                 str(self.next), self.progress_file, str(self.memory_limit)],
                env=env, stdout=subprocess.DEVNULL, stderr=log)
        self.last = time.time() + 30  # startup (importing JAX) gets extra time

    def step(self, results):
        """Read progress; restart after a crash or hang. True when the shard is done."""
        with open(self.progress_file) as f:
            lines = f.read().splitlines()
        for line in lines[self.read:]:
            if not line.endswith("}"):
                break
            self.read += 1
            rec = json.loads(line)
            if "start" in rec:
                self.in_flight = rec["start"]
            else:
                results[self.index[rec["done"]]] = {
                    k: rec[k] for k in ("outcome", "message", "matched", "seconds")}
                self.next = rec["done"] + 1
                self.in_flight = None
            self.last = time.time()
        code = self.proc.poll()
        if code is None and time.time() - self.last < self.case_timeout:
            return False
        if code is None:  # no progress: a hang
            self.proc.kill()
            self.proc.wait()
            outcome = "hang"
        elif self.next >= len(self.index):
            return True
        else:
            outcome = f"crash:{code}"
        with open(self.log_file, "rb") as log:
            stderr = log.read()[-600:].decode(errors="replace")
        failed = self.in_flight if self.in_flight is not None else self.next
        results[self.index[failed]] = {"outcome": outcome, "message": stderr,
                                       "matched": None, "seconds": None}
        self.next = failed + 1
        self.in_flight = None
        if self.next >= len(self.index):
            return True
        self._start()
        return False


def failures(records):
    """The records whose outcome their case does not allow (or whose message misses)."""
    bad = []
    for r in records:
        ok = r["outcome"] in ALLOWED[r["expect"]]
        if ok and r["outcome"] == "clean" and r.get("match"):
            ok = bool(r["matched"])
        if not ok:
            bad.append(r)
    return bad


def summary(records):
    counts = {}
    for r in records:
        kind = r["outcome"].split(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "child":
    _child(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
