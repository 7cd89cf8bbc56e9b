"""Damaged and hostile files give the model or an ordinary error naming the file (issue 16).

The fuzz-style part (`records`) writes about 500 damaged files from small valid ones
(`hostile_files.py`: truncations, byte flips, zip and HDF5 tricks, config mutations,
damaged checkpoint folders) and loads each in a child process under a 4 GiB address-space
limit and a per-file timeout; a crash or hang is recorded against the file it happened on.
The larger sweep is `benchmarks/fuzz_model_files.py`.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.backend import limits
from keras_on_jax.io import orbax_dir

import hostile_files as hf


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile"))
    cases, bases = hf.make_cases(root, scale=1, seed=0, kj=kj)
    hf.add_chain_case(cases, root, kj, n=1100)
    return hf.run_cases(cases, bases, root, children=2, case_timeout=90)


def _report(bad):
    return "\n".join(f"{r['id']} [{r['op']}; {r['note']}] expected {r['expect']}, got "
                     f"{r['outcome']}: {r['message'][:300]}" for r in bad)


def test_no_crash_hang_or_raw_exception(records):
    counts = hf.summary(records)
    assert set(counts) <= {"loaded", "clean"}, (counts, _report(
        [r for r in records if r["outcome"] not in ("loaded", "clean")]))
    assert len(records) > 400
    assert counts["clean"] > 200 and counts["loaded"] > 50  # both outcomes really occur


CATEGORIES = ["truncate_keras", "flip_keras", "flip_keras_member", "truncate_h5", "flip_h5", "truncate_weights",
              "flip_weights", "truncate_legacy_weights", "flip_legacy_weights", "damage_ckpt",
              "damage_orbax", "zip_tricks", "hdf5_weights", "hdf5_h5", "hdf5_legacy_weights",
              "config_json", "config_keras", "config_h5", "chain"]


@pytest.mark.parametrize("category", CATEGORIES)
def test_outcomes_by_category(records, category):
    mine = [r for r in records if r["category"] == category]
    assert mine
    bad = hf.failures(mine)
    assert not bad, _report(bad)


def test_truncated_files_are_refused(records):
    truncated = [r for r in records if r["category"].startswith("truncate_")]
    assert len(truncated) > 80
    assert all(r["outcome"] == "clean" for r in truncated), _report(
        [r for r in truncated if r["outcome"] != "clean"])


# ---------------------------------------------------------------------------------------
# The size guard, in this process
# ---------------------------------------------------------------------------------------
@pytest.fixture
def no_limits():
    yield
    kj.config.set_max_variable_bytes(None)
    kj.config.set_max_model_bytes(None)


def test_absurd_layer_from_user_code_raises_before_allocating():
    layer = kj.layers.Dense(10**12, name="typo")
    with pytest.raises(ValueError, match=r"'typo/kernel' with shape \(4, 1000000000000\) and "
                                         r"dtype float32: it needs 14\.6 TiB \(16000000000000 bytes\)"):
        layer.build((None, 4))
    assert not layer.built and not layer.weights


def test_user_limits(no_limits, tmp_path):
    kj.config.set_max_variable_bytes(1000)
    assert kj.config.max_variable_bytes() == 1000
    kj.layers.Dense(10).build((None, 4))  # 160 bytes: fine
    with pytest.raises(ValueError, match=r"'d/kernel' .*\(1600 bytes\), over the limit "
                                         r"keras.config.max_variable_bytes\(\)=1000 bytes"):
        kj.layers.Dense(100, name="d").build((None, 4))
    kj.config.set_max_variable_bytes(None)

    # d1's kernel and bias (128 + 32 bytes), bn's gamma (32), then its beta passes 200.
    model = hf.build_base(kj, "seq")
    for name in ("seq.keras", "seq.h5"):
        path = str(tmp_path / name)
        model.save(path)
        kj.config.set_max_model_bytes(200)
        with pytest.raises(ValueError, match=name.replace(".", r"\.") + r"' needs more memory "
                           r"than the limit keras.config.max_model_bytes\(\)=200 bytes: its "
                           r"variables reach 224 bytes at variable '(seq/)?bn/beta'"):
            kj.saving.load_model(path)
        kj.config.set_max_model_bytes(10**6)
        kj.saving.load_model(path)
    for bad in (-1, 0, 1.5, "1", True):
        with pytest.raises(ValueError, match="positive int"):
            kj.config.set_max_model_bytes(bad)


def test_available_memory_is_known_here():
    with open("/proc/meminfo") as f:
        info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    free = limits.available_memory()
    assert 0 < free <= info["MemTotal"] + info["SwapTotal"]


def test_checkpoint_declaring_huge_arrays_is_refused():
    import jax

    tree = {"weights": {"d": {"0": jax.ShapeDtypeStruct((2**22, 2**22), "float32")}}}
    with pytest.raises(ValueError, match=r"array 'weights/d/0' of the checkpoint 'ck'.*64\.0 TiB"):
        orbax_dir.check_declared_sizes(tree, "'ck'")
    many = {str(i): jax.ShapeDtypeStruct((2**28,), "float32") for i in range(2**10)}
    with pytest.raises(ValueError, match=r"The checkpoint 'ck' needs 1\.0 TiB"):
        orbax_dir.check_declared_sizes(many, "'ck'")


def test_nan_and_inf_weights_load_as_data(tmp_path):
    model = hf.build_base(kj, "seq")
    weights = [np.full(w.shape, np.nan if i % 2 else np.inf, w.dtype)
               for i, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    for name in ("m.keras", "m.h5"):
        model.save(str(tmp_path / name))
        back = kj.saving.load_model(str(tmp_path / name))
        for a, b in zip(back.get_weights(), weights):
            np.testing.assert_array_equal(np.asarray(a), b)


# ---------------------------------------------------------------------------------------
# Saving stays atomic when the process is killed mid-save
# ---------------------------------------------------------------------------------------
_SAVER = """
import sys, keras_on_jax as kj
sys.path.insert(0, {io_dir!r})
import hostile_files as hf
model = hf.build_base(kj, "func")
print("ready", flush=True)
while True:
    for path in {paths!r}:
        if path.endswith(".weights.h5"):
            model.save_weights(path)
        else:
            model.save(path)
"""


def test_killed_save_leaves_previous_file_loadable(tmp_path):
    model = hf.build_base(kj, "func")
    paths = [str(tmp_path / n) for n in ("m.keras", "m.h5", "m.weights.h5")]
    for p in paths[:2]:
        model.save(p)
    model.save_weights(paths[2])
    code = _SAVER.format(io_dir=os.path.dirname(__file__), paths=paths)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    with proc.stdout:
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(1.5)  # several saves in, one under way
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    kj.saving.load_model(paths[0])
    kj.saving.load_model(paths[1])
    model.load_weights(paths[2])
    leftovers = [n for n in os.listdir(tmp_path) if n.startswith(".")]
    assert all(".tmp-" in n for n in leftovers)  # a killed save may leave its temporary


def test_bfloat16_weights_are_read_without_their_string_attribute(tmp_path):
    """Keras 3 marks bfloat16 datasets with a string attribute; the reader knows them by
    their 2-byte opaque type instead (strings live in the HDF5 global heap, which is only
    checked for legacy files)."""
    import keras
    import ml_dtypes

    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, dtype="bfloat16")])
    path = str(tmp_path / "bf.weights.h5")
    k.save_weights(path)
    m = kj.Sequential([kj.Input((3,)), kj.layers.Dense(2, dtype="bfloat16")])
    m.load_weights(path)
    for a, b in zip(m.get_weights(), k.get_weights()):
        assert np.asarray(a).dtype == ml_dtypes.bfloat16
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_string_weights_read_after_their_global_heap_is_checked(tmp_path):
    """Lookup layers store their vocabulary as strings; variable-length ones live in the
    HDF5 global heap, checked before they are read (HDF5 hangs on a damaged one)."""
    import h5py

    layer = kj.layers.StringLookup(name="lookup")
    layer.adapt(np.array(["alpha", "beta", "beta"]))
    model = kj.Sequential([kj.Input((1,), dtype="string"), layer])
    path = str(tmp_path / "vocab.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        name = "layers/string_lookup/vars/vocabulary"
        del f[name]
        f.create_dataset(name, data=np.array([b"gamma", b"delta"], dtype=object),
                         dtype=h5py.string_dtype())
    model.load_weights(path)
    assert layer.get_vocabulary() == ["[UNK]", "gamma", "delta"]
    raw = bytearray((tmp_path / "vocab.weights.h5").read_bytes())
    at = raw.find(b"GCOL\x01\x00\x00\x00")
    raw[at + 9] ^= 0x2E  # the collection's size grows past its objects
    (tmp_path / "vocab.weights.h5").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"StringLookup 'lookup'.*vocab\.weights\.h5' is "
                                         r"corrupted: the global heap .* at byte \d+ is damaged"):
        model.load_weights(path)
