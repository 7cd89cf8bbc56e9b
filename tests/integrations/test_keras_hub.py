"""KerasHub 0.32 unchanged under `python -m keras_on_jax`, without TensorFlow: tokenizers,
preprocessors on raw strings, Grain string pipelines into `fit`, samplers and presets give
what the same code gives on real Keras 3 + KerasHub (`KERAS_BACKEND=jax`)."""

import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

for _module in ("keras_hub", "grain", "sentencepiece", "tokenizers"):
    pytest.importorskip(_module)
if importlib.util.find_spec("tensorflow") is not None:
    pytest.skip("these tests are about KerasHub without TensorFlow", allow_module_level=True)

SCRIPT = Path(__file__).with_name("keras_hub_script.py")
PARTS = ["byte_pair_tokenizer", "word_piece_tokenizer", "sentence_piece_tokenizer",
         "gpt2_preprocessor", "bert_preprocessor", "gemma_preprocessor", "llama_preprocessor",
         "grain_pipeline_fit", "samplers"]


def _env(runner):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["JAX_PLATFORMS"] = "cpu"
    # Tiny models: compiling dominates both sides' time, and XLA's cheaper code generation
    # halves it (the numbers agree within the tolerances either way).
    env["XLA_FLAGS"] = " ".join(filter(None, [
        env.get("XLA_FLAGS"), "--xla_backend_optimization_level=0",
        "--xla_llvm_disable_expensive_passes=true"]))
    if not runner:
        env["KERAS_BACKEND"] = "jax"
    return env


def _start(args, runner):
    prefix = [sys.executable, "-m", "keras_on_jax"] if runner else [sys.executable]
    return subprocess.Popen(prefix + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(runner))


def _result(proc, who):
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, f"{who}:\n{err[-3000:]}"
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _assert_same(ours, ref, where):
    if isinstance(ref, float) and isinstance(ours, float):
        assert math.isclose(ours, ref, rel_tol=1e-4, abs_tol=1e-5), f"{where}: {ours} != {ref}"
    elif isinstance(ref, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(ref), f"{where}: {ours} != {ref}"
        for key in ref:
            _assert_same(ours[key], ref[key], f"{where}.{key}")
    elif isinstance(ref, list):
        assert isinstance(ours, list) and len(ours) == len(ref), f"{where}: {ours} != {ref}"
        for i, (a, b) in enumerate(zip(ours, ref)):
            _assert_same(a, b, f"{where}[{i}]")
    else:
        assert ours == ref, f"{where}: {ours!r} != {ref!r}"


def test_keras_hub_strings_tokenizers_preprocessors_samplers_equal_keras(tmp_path):
    # Both runs at once (two processes; each mostly imports).
    ours = _start([SCRIPT, tmp_path / "ours"], runner=True)
    ref = _start([SCRIPT, tmp_path / "ref"], runner=False)
    ours, ref = _result(ours, "keras_on_jax"), _result(ref, "Keras 3")
    assert sorted(ref) == sorted(PARTS)
    for part in PARTS:
        assert not str(ref[part]).startswith("ERROR"), f"Keras 3 failed {part}: {ref[part]}"
        assert not str(ours[part]).startswith("ERROR"), f"{part}: {ours[part]}"
        _assert_same(ours[part], ref[part], part)
    # The parts check things, not just agree: spot values.
    assert ours["byte_pair_tokenizer"]["ragged"] == [[8, 4, 5, 9], [3]]
    assert ours["grain_pipeline_fit"]["numpy_in_pipeline"] is True
    loss = ours["grain_pipeline_fit"]["loss"]
    assert loss[-1] < loss[0]
    assert ours["samplers"]["top_k_3_in_top_3"] and ours["samplers"]["top_k_3_seeded"]
    assert "preprocessor.json" in ours["gpt2_preprocessor"]["preset"]


def test_libraries_see_tensorflow_absent_and_the_script_gets_the_faq_spelling(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import keras_hub
        from keras_hub.src.layers.preprocessing import multi_segment_packer
        from keras_hub.src.metrics import bleu
        from keras_hub.src.utils import tensor_utils

        # KerasHub probes with `try: import tensorflow`: it takes its TensorFlow-free path.
        assert tensor_utils.tf is None and bleu.tf is None and multi_segment_packer.tf is None
        import keras
        import tensorflow as tf  # the script itself: the FAQ's spelling, mapped here
        assert tf.keras is keras
        print("OK", keras.__name__)
    """))
    proc = _start([script], runner=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "OK keras_on_jax" in out


PRESETS_SCRIPT = Path(__file__).with_name("keras_hub_presets_script.py")


# The presets this package writes that real Keras reads back (a byte-pair, a SentencePiece
# and a WordPiece tokenizer among them, and a LoRA file).
WRITTEN_HERE = ["gpt2", "gemma", "gpt2_lora", "bert_text_classifier"]


def test_presets_move_both_ways_and_models_run_and_train_as_keras(tmp_path):
    """Presets written by real Keras 3 + KerasHub load here with `from_preset`: GPT-2,
    Llama and Gemma causal LMs generate the same tokens (greedy; GPT-2 also with stop
    tokens and beam search) and predict and fit on raw strings with the same numbers, as
    does a BERT text classifier on raw sentence pairs; Mistral and OPT backbones and ResNet /
    ViT image classifiers give the same outputs and losses; LoRA factors trained here load
    there and back. Presets and `.lora.h5` files saved here load in real Keras 3 + KerasHub
    with the same outputs and greedy tokens."""
    keras_dir, our_dir = tmp_path / "by_keras", tmp_path / "by_keras_on_jax"
    only = ",".join(WRITTEN_HERE)
    # Keras's side takes most of the time: Keras checks the presets written here while it
    # is still writing its own.
    ref_write = _start([PRESETS_SCRIPT, "write", keras_dir], runner=False)
    written_here = _result(_start([PRESETS_SCRIPT, "write", our_dir, only], runner=True),
                           "keras_on_jax")
    ref_check = _start([PRESETS_SCRIPT, "check", our_dir, only], runner=False)
    ref = _result(ref_write, "Keras 3")
    ours = _result(_start([PRESETS_SCRIPT, "read", keras_dir], runner=True), "keras_on_jax")
    read_by_keras = _result(ref_check, "Keras 3")
    assert sorted(ref) == ["backbones", "bert_text_classifier", "gemma", "gpt2", "gpt2_lora",
                           "llama", "resnet_classifier", "vit_classifier"]
    for theirs, mine, where in ((ref, ours, "Keras -> here"),
                                (written_here, read_by_keras, "here -> Keras")):
        for part in mine:
            assert not str(theirs[part]).startswith("ERROR"), f"{where} {part}: {theirs[part]}"
            assert not str(mine[part]).startswith("ERROR"), f"{where} {part}: {mine[part]}"
            expected = theirs[part]
            if part == "gpt2_lora":  # only the writer trains (and reports losses)
                expected = {k: v for k, v in expected.items() if k != "loss"}
            if mine is read_by_keras:  # Keras's `check`: outputs and greedy tokens only
                checked = ({"greedy", "logits"}, {"predict"}, {"trainable", "logits"})
                assert set(mine[part]) in checked, f"{where} {part}: {sorted(mine[part])}"
                expected = {k: expected[k] for k in mine[part]}
            _assert_same(mine[part], expected, f"{where} {part}")
    assert sorted(read_by_keras) == sorted(WRITTEN_HERE)
    for part in ("gpt2", "llama", "gemma", "resnet_classifier", "vit_classifier",
                 "bert_text_classifier"):
        assert ours[part]["loss"][-1] < ours[part]["loss"][0]
    lora_loss = written_here["gpt2_lora"]["loss"]
    assert lora_loss[-1] < lora_loss[0] and len(ours["gpt2_lora"]["trainable"]) == 12
    # GPT-2's random weights favour its end token: without stop tokens generation runs on.
    assert ours["gpt2"]["greedy"] != ours["gpt2"]["greedy_stop"]
