"""KerasHub's non-model parts on raw strings, run unchanged by `test_keras_hub.py` twice:
under `python -m keras_on_jax` and on real Keras 3 (`KERAS_BACKEND=jax`). Prints one JSON
line (`RESULT {...}`) of every output, for the test to compare; a failing part records its
error instead, so one comparison names every part that differs.

Usage: python keras_hub_script.py WORK_DIR
"""

import hashlib
import json
import os
import sys
import traceback

import grain
import keras
import keras_hub
import numpy as np
from keras_hub_fixtures import (BPE_MERGES, BPE_VOCAB, SENTENCES, WORDPIECE_VOCAB,
                                sentencepiece_proto)

WORK = sys.argv[1]
RESULT = {}


def part(fn):
    try:
        RESULT[fn.__name__] = fn()
    except Exception as e:  # recorded, so the comparison shows it
        traceback.print_exc()
        RESULT[fn.__name__] = f"ERROR {type(e).__name__}: {e}"
    return fn


def plain(x):
    """Outputs as JSON: nested lists of numbers / strings."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return [plain(v) for v in x]
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    a = np.asarray(x)
    if a.dtype.kind == "S":
        return np.vectorize(lambda s: s.decode("utf-8"), otypes=[object])(a).tolist()
    return a.tolist()


def preset_files(directory):
    """A preset folder's JSON files (parsed) and the SHA-256 of its other files."""
    out = {}
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            path = os.path.join(root, name)
            key = os.path.relpath(path, directory)
            if name.endswith(".json"):
                with open(path) as f:
                    out[key] = json.load(f)
            else:
                with open(path, "rb") as f:
                    out[key] = hashlib.sha256(f.read()).hexdigest()
    return out


@part
def byte_pair_tokenizer():
    tokenizer = keras_hub.tokenizers.BytePairTokenizer(vocabulary=BPE_VOCAB, merges=BPE_MERGES,
                                                       sequence_length=5)
    ids = tokenizer(["abc ab c", "a b"])
    unbatched = keras_hub.tokenizers.BytePairTokenizer(vocabulary=BPE_VOCAB, merges=BPE_MERGES)
    clone = keras_hub.tokenizers.BytePairTokenizer.from_config(tokenizer.get_config())
    clone.set_vocabulary_and_merges(BPE_VOCAB, BPE_MERGES)
    return {"ids": plain(ids), "detokenized": plain(tokenizer.detokenize(ids)),
            "ragged": plain(unbatched(["abc ab c", "c"])), "one": plain(unbatched("ab")),
            "clone": plain(clone(["ab c"])), "size": tokenizer.vocabulary_size(),
            "id": tokenizer.token_to_id("Ġab"), "token": tokenizer.id_to_token(8)}


@part
def word_piece_tokenizer():
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=WORDPIECE_VOCAB,
                                                        sequence_length=8, lowercase=True)
    ids = tokenizer(["The quick brown fox.", "the fox"])
    return {"ids": plain(ids), "detokenized": plain(tokenizer.detokenize(ids)),
            "one": plain(tokenizer("quick fox")), "size": tokenizer.vocabulary_size()}


@part
def sentence_piece_tokenizer():
    tokenizer = keras_hub.tokenizers.SentencePieceTokenizer(
        proto=sentencepiece_proto("<pad>", "<s>", "</s>"), sequence_length=6)
    ids = tokenizer(["the quick fox", "the lazy dog sleeps"])
    return {"ids": plain(ids), "detokenized": plain(tokenizer.detokenize(ids)),
            "size": tokenizer.vocabulary_size(), "piece": tokenizer.id_to_token(5)}


def causal_lm_preprocessing(preprocessor, texts, prompt):
    x, y, sample_weight = preprocessor(texts)
    generate = preprocessor.generate_preprocess([prompt])
    return {"x": plain(x), "y": plain(y), "sample_weight": plain(sample_weight),
            "generate": plain(generate),
            "postprocess": plain(preprocessor.generate_postprocess(generate))}


@part
def gpt2_preprocessor():
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=BPE_VOCAB, merges=BPE_MERGES)
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=8)
    out = causal_lm_preprocessing(preprocessor, ["abc ab", "c"], "ab c")
    preprocessor.save_to_preset(os.path.join(WORK, "gpt2_preset"))
    out["preset"] = preset_files(os.path.join(WORK, "gpt2_preset"))
    return out


@part
def bert_preprocessor():
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=WORDPIECE_VOCAB)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=8)
    pair, label = preprocessor((["the fox"], ["quick"]), y=np.array([1]))
    return {"single": plain(preprocessor(["The quick fox.", "brown"])), "pair": plain(pair),
            "label": plain(label)}


@part
def gemma_preprocessor():
    proto = sentencepiece_proto("<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
                                "<start_of_image>", "<end_of_image>", "<img>")
    tokenizer = keras_hub.models.GemmaTokenizer(proto=proto)
    preprocessor = keras_hub.models.GemmaCausalLMPreprocessor(tokenizer, sequence_length=8)
    return causal_lm_preprocessing(preprocessor, ["the quick fox", "dog"], "the dog")


@part
def llama_preprocessor():
    tokenizer = keras_hub.models.LlamaTokenizer(proto=sentencepiece_proto("<pad>", "<s>", "</s>"))
    preprocessor = keras_hub.models.LlamaCausalLMPreprocessor(tokenizer, sequence_length=8)
    return causal_lm_preprocessing(preprocessor, ["the quick fox", "dog"], "the dog")


@part
def grain_pipeline_fit():
    """Raw strings through a preprocessor in a Grain pipeline, into `fit`."""
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=BPE_VOCAB, merges=BPE_MERGES)
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=8)
    texts = ["abc ab", "c a b", "ab ab c", "a", "abc", "c c ab", "b a", "ab"]
    dataset = grain.MapDataset.source(texts).map(preprocessor).batch(4)
    first = dataset[0]
    inputs = {"token_ids": keras.Input((8,), dtype="int32", name="token_ids"),
              "padding_mask": keras.Input((8,), dtype="bool", name="padding_mask")}
    logits = keras.layers.Dense(10)(keras.layers.Embedding(10, 4)(inputs["token_ids"]))
    model = keras.Model(inputs, logits)
    rng = np.random.default_rng(0)
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype("float32")
                       for w in model.get_weights()])
    model.compile(keras.optimizers.SGD(0.1),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=3, verbose=0)
    return {"first_batch": plain(first),
            "numpy_in_pipeline": all(isinstance(v, np.ndarray) for v in first[0].values()),
            "loss": history.history["loss"], "evaluate": model.evaluate(dataset, verbose=0)}


TABLE = np.random.default_rng(3).standard_normal((7, 7)).astype("float32")


def next_token_logits(prompt, cache, index):
    """A toy language model: the next token's logits depend on the previous token only."""
    previous = keras.ops.take(prompt, index - 1, axis=1)
    return keras.ops.take(keras.ops.convert_to_tensor(TABLE), previous, axis=0), None, cache


@part
def samplers():
    prompt = np.array([[1, 2, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0]], "int32")
    mask = prompt != 0
    out = {}
    for name, sampler in [("greedy", keras_hub.samplers.GreedySampler()),
                          ("top_k_1", keras_hub.samplers.TopKSampler(k=1)),
                          ("beam", keras_hub.samplers.BeamSampler(num_beams=2))]:
        out[name] = plain(sampler(next_token_logits, prompt, index=1, mask=mask))
    stop = int(np.argmax(TABLE[2]))
    out["greedy_stop"] = plain(keras_hub.samplers.GreedySampler()(
        next_token_logits, prompt, index=1, mask=mask, stop_token_ids=[stop]))
    # Random samplers: their draws follow each package's generator, so only their
    # properties are compared: every new token among the k likeliest, seeds reproducible.
    top3 = np.argsort(-TABLE, axis=-1)[:, :3]
    runs = [plain(keras_hub.samplers.TopKSampler(k=3, seed=seed)(
        next_token_logits, prompt, index=1, mask=mask)) for seed in (5, 5, 6)]
    out["top_k_3_in_top_3"] = all(
        run[r][i] in top3[run[r][i - 1]]
        for run in runs for r in range(2) for i in range(1, 6) if not mask[r, i])
    out["top_k_3_seeded"] = runs[0] == runs[1]
    return out


print("RESULT " + json.dumps(RESULT))
