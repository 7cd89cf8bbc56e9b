"""Small random KerasHub models as presets: `write` builds and saves them (run on real
Keras 3), `read` loads them with `from_preset` (run under `python -m keras_on_jax`); both
then run them (GPT-2, Llama and Gemma causal LMs generate, predict and fit on raw strings,
a BERT text classifier on raw sentence pairs; ResNet and ViT image classifiers predict and
fit; more backbones are called on token ids) and
print one JSON line (`RESULT {...}`) for `test_keras_hub.py` to compare. `check` is `read`
without training and with greedy generation only: real Keras 3 checks the presets written
here with it (what they compute; training them was compared the other way).

Usage: python keras_hub_presets_script.py write|read|check WORK_DIR [PART,PART,...]
"""

import json
import os
import sys
import traceback

import keras
import keras_hub
import numpy as np
from keras_hub_fixtures import BPE_MERGES, BPE_VOCAB, SENTENCES, sentencepiece_proto

MODE, WORK = sys.argv[1], sys.argv[2]
FULL = MODE != "check"


def gpt2():
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=BPE_VOCAB, merges=BPE_MERGES)
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=10, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
        max_sequence_length=8, dropout=0.0)
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=8)
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=preprocessor)


def llama():
    tokenizer = keras_hub.models.LlamaTokenizer(proto=sentencepiece_proto("<pad>", "<s>", "</s>"))
    backbone = keras_hub.models.LlamaBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2, num_query_heads=2,
        num_key_value_heads=1, hidden_dim=8, intermediate_dim=16)
    preprocessor = keras_hub.models.LlamaCausalLMPreprocessor(tokenizer, sequence_length=8)
    return keras_hub.models.LlamaCausalLM(backbone=backbone, preprocessor=preprocessor)


def gemma():
    proto = sentencepiece_proto("<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
                                "<start_of_image>", "<end_of_image>", "<img>")
    tokenizer = keras_hub.models.GemmaTokenizer(proto=proto)
    backbone = keras_hub.models.GemmaBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2, num_query_heads=2,
        num_key_value_heads=1, hidden_dim=8, intermediate_dim=16, head_dim=4)
    preprocessor = keras_hub.models.GemmaCausalLMPreprocessor(tokenizer, sequence_length=8)
    return keras_hub.models.GemmaCausalLM(backbone=backbone, preprocessor=preprocessor)


MODELS = {"gpt2": (gpt2, keras_hub.models.GPT2CausalLM, ["abc ab c", "c a b", "ab ab c", "a b c"],
                   ["ab", "c a"]),
          "llama": (llama, keras_hub.models.LlamaCausalLM, SENTENCES + ["the lazy fox"],
                    ["the", "over the"]),
          "gemma": (gemma, keras_hub.models.GemmaCausalLM, SENTENCES + ["the lazy fox"],
                    ["the", "over the"])}


def run(name):
    build, cls, texts, prompts = MODELS[name]
    path = os.path.join(WORK, name)
    if MODE == "write":
        keras.utils.set_random_seed(3)
        model = build()
        model.save_to_preset(path)
    else:
        model = cls.from_preset(path)
    out = {}
    model.compile(optimizer=keras.optimizers.SGD(0.5), sampler="greedy")
    out["greedy"] = model.generate(prompts, max_length=8, stop_token_ids=None)
    out["logits"] = np.asarray(model.predict(texts[:2], verbose=0)).ravel()[::7].tolist()
    if not FULL:
        return out
    if name == "gpt2":  # stop tokens and a second sampler: once, on the smallest model
        out["greedy_stop"] = model.generate(prompts, max_length=8)
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      sampler=keras_hub.samplers.BeamSampler(num_beams=2))
        out["beam"] = model.generate(prompts[:1], max_length=8, stop_token_ids=None)
    history = model.fit(texts, batch_size=2, epochs=2, shuffle=False, verbose=0)
    out["loss"] = history.history["loss"]
    out["logits_after_fit"] = np.asarray(model.predict(texts[:2], verbose=0)).ravel()[::7].tolist()
    return out


M = keras_hub.models
TEXT = dict(vocabulary_size=11, num_layers=1, hidden_dim=8, intermediate_dim=16)
DECODER = dict(TEXT, num_query_heads=2, num_key_value_heads=1)
BACKBONES = {
    "mistral": lambda: M.MistralBackbone(**DECODER),
    "opt": lambda: M.OPTBackbone(**TEXT, num_heads=2, max_sequence_length=8),
}
TOKENS = {"token_ids": np.array([[1, 2, 3, 4, 0, 0], [5, 6, 7, 1, 2, 3]], "int32"),
          "padding_mask": np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")}
IMAGES = np.random.default_rng(0).random((4, 16, 16, 3)).astype("float32") * 255


def backbones():
    out = {}
    for name, build in BACKBONES.items():
        path = os.path.join(WORK, name)
        if MODE == "write":
            keras.utils.set_random_seed(1)
            build().save_to_preset(path)
        backbone = M.Backbone.from_preset(path)
        out[name] = np.asarray(backbone(TOKENS)).ravel()[::5].tolist()
    return out


def image_classifier(name, build_backbone, converter_cls, preprocessor_cls, classifier_cls,
                     learning_rate):
    path = os.path.join(WORK, name)
    if MODE == "write":
        keras.utils.set_random_seed(1)
        converter = converter_cls(image_size=(16, 16), scale=1 / 255)
        classifier_cls(backbone=build_backbone(), num_classes=3,
                       preprocessor=preprocessor_cls(image_converter=converter)
                       ).save_to_preset(path)
    model = classifier_cls.from_preset(path)
    out = {"predict": np.asarray(model.predict(IMAGES, verbose=0)).ravel().tolist()}
    model.compile(optimizer=keras.optimizers.SGD(learning_rate))
    history = model.fit(IMAGES, np.array([0, 1, 2, 1]), batch_size=2, epochs=2, shuffle=False,
                        verbose=0)
    out["loss"] = history.history["loss"]
    return out


def resnet_classifier():
    def backbone():
        return M.ResNetBackbone(
            input_conv_filters=[8], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 8],
            stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2],
            block_type="bottleneck_block", image_shape=(16, 16, 3))

    return image_classifier(
        "resnet_classifier", backbone, keras_hub.layers.ResNetImageConverter,
        M.ResNetImageClassifierPreprocessor, M.ResNetImageClassifier, learning_rate=0.1)


def vit_classifier():
    return image_classifier(
        "vit_classifier", lambda: M.ViTBackbone(image_shape=(16, 16, 3), patch_size=4,
                                                num_layers=1, num_heads=2, hidden_dim=8,
                                                mlp_dim=16),
        keras_hub.layers.ViTImageConverter,
        M.ViTImageClassifierPreprocessor, M.ViTImageClassifier, learning_rate=0.01)


def bert_text_classifier():
    """`TextClassifier.fit` on raw strings (sentence pairs)."""
    path = os.path.join(WORK, "bert_classifier")
    if MODE == "write":
        keras.utils.set_random_seed(1)
        vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "qu", "##ick",
                      "brown", "fox", "lazy", "dog", "."]
        tokenizer = M.BertTokenizer(vocabulary=vocabulary)
        preprocessor = M.BertTextClassifierPreprocessor(tokenizer, sequence_length=10)
        backbone = M.BertBackbone(vocabulary_size=len(vocabulary), num_layers=1, num_heads=2,
                                  hidden_dim=8, intermediate_dim=16, max_sequence_length=10,
                                  dropout=0.0)
        M.BertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor,
                             dropout=0.0).save_to_preset(path)
    model = M.BertTextClassifier.from_preset(path)
    texts = (["the quick fox.", "the lazy dog", "brown fox", "the dog."],
             ["fox", "the dog", "quick", "lazy"])
    out = {"predict": np.asarray(model.predict(texts, verbose=0)).ravel().tolist()}
    if not FULL:
        return out
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    history = model.fit(texts, np.array([0, 1, 0, 1]), batch_size=2, epochs=4, shuffle=False,
                        verbose=0)
    out["loss"] = history.history["loss"]
    return out


def gpt2_lora():
    """`enable_lora` + `fit` on raw strings, and `.lora.h5` files (KerasHub writes them with
    `keras.src.saving.saving_lib.H5IOStore`): the writer trains and saves the factors (and
    reports the losses), then the writer and the reader load them into a fresh model."""
    path, lora_path = os.path.join(WORK, "gpt2"), os.path.join(WORK, "gpt2.lora.h5")
    out = {}
    if MODE == "write":
        model = keras_hub.models.GPT2CausalLM.from_preset(path)
        model.backbone.enable_lora(rank=2)
        out["trainable"] = [w.path for w in model.trainable_weights]
        model.compile(optimizer=keras.optimizers.SGD(0.5), sampler="greedy")
        history = model.fit(["abc ab c", "c a b", "ab ab c", "a b c"], batch_size=2, epochs=2,
                            shuffle=False, verbose=0)
        out["loss"] = history.history["loss"]
        model.backbone.save_lora_weights(lora_path)
    fresh = keras_hub.models.GPT2CausalLM.from_preset(path)
    fresh.backbone.load_lora_weights(lora_path)  # enables LoRA with the file's rank
    if MODE != "write":
        out["trainable"] = [w.path for w in fresh.trainable_weights]
    out["logits"] = np.asarray(fresh.predict(["abc ab"], verbose=0)).ravel()[::3].tolist()
    return out


PARTS = {**{name: (lambda name=name: run(name)) for name in MODELS}, "gpt2_lora": gpt2_lora,
         "backbones": backbones, "resnet_classifier": resnet_classifier,
         "vit_classifier": vit_classifier, "bert_text_classifier": bert_text_classifier}
RESULT = {}
ONLY = sys.argv[3].split(",") if len(sys.argv) > 3 else list(PARTS)
for part, fn in ((p, PARTS[p]) for p in ONLY):
    try:
        RESULT[part] = fn()
    except Exception as e:  # recorded, so the comparison names it
        traceback.print_exc()
        RESULT[part] = f"ERROR {type(e).__name__}: {e}"
print("RESULT " + json.dumps(RESULT))
