"""Transfer learning and fine-tuning: the Keras FAQ's workflow end to end.

Data: scikit-learn's bundled 8x8 digits (no download). A convolutional base is first
pretrained on digits 0-4 and saved as a `.keras` file, standing in for downloaded
pretrained weights; the workflow then reuses it for all ten digits:

1. Load the pretrained model, take its convolutional base, freeze it, put a new head on
   top and train the head.
2. Unfreeze the top block of the base. BatchNormalization stays in inference mode because
   the base is called with `training=False`; recompile with a low learning rate, train on.

The accuracy on held-out digits is printed after each stage.

    python examples/fine_tune.py
"""

import argparse
import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits

import keras_on_jax as keras
from keras_on_jax import layers


def load_data():
    digits = load_digits()
    x = (digits.images.astype("float32") / 16.0)[..., None]
    y = digits.target.astype("int32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))
    return (x[:split], y[:split]), (x[split:], y[split:])


def pretrain(x, y, path, epochs):
    """Train a small convnet on digits 0-4 and save it: our 'pretrained model'."""
    keep = y < 5
    base = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", name="block1_conv"),
        layers.BatchNormalization(name="block1_bn"),
        layers.ReLU(name="block1_relu"),
        layers.Conv2D(64, 3, padding="same", name="block2_conv"),
        layers.BatchNormalization(name="block2_bn"),
        layers.ReLU(name="block2_relu"),
    ], name="base")
    model = keras.Sequential([base, layers.GlobalAveragePooling2D(),
                              layers.Dense(5, activation="softmax")], name="pretrained")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[keep], y[keep], epochs=epochs, batch_size=32, verbose=0)
    model.save(path)
    print(f"pretrained a model on digits 0-4 and saved it to {path}")


def main(epochs=10, fine_tune_epochs=5, pretrain_epochs=10):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    path = os.path.join(tempfile.mkdtemp(), "pretrained.keras")
    pretrain(x_train, y_train, path, pretrain_epochs)

    base = keras.models.load_model(path).get_layer("base")
    base.trainable = False  # stage 1: freeze the whole base

    inputs = keras.Input(shape=(8, 8, 1))
    x = base(inputs, training=False)  # BatchNormalization always runs in inference mode
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)

    def accuracy():
        return float(model.evaluate(x_test, y_test, verbose=0)[1])

    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = accuracy()
    print(f"accuracy before training: {before:.3f}")
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    head = accuracy()
    print(f"accuracy after training the new head (base frozen, "
          f"{len(model.trainable_weights)} trainable weights): {head:.3f}")

    # Stage 2: unfreeze the top block; its BatchNormalization stays frozen, as the FAQ says.
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block2") and not isinstance(
            layer, layers.BatchNormalization)
    model.compile(optimizer=keras.optimizers.Adam(1e-4),  # recompile: low learning rate
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    n_trainable = len(model.trainable_weights)
    bn = base.get_layer("block2_bn")
    stats = [w.copy() for w in bn.get_weights()]
    model.fit(x_train, y_train, epochs=fine_tune_epochs, batch_size=32, verbose=0)
    tuned = accuracy()
    print(f"accuracy after fine-tuning the top block ({n_trainable} trainable weights): "
          f"{tuned:.3f}")
    bn_unchanged = all(np.array_equal(a, b) for a, b in zip(stats, bn.get_weights()))
    return {"before": before, "head": head, "fine_tuned": tuned,
            "trainable_weights": n_trainable, "bn_unchanged": bn_unchanged}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--fine-tune-epochs", type=int, default=5)
    args = parser.parse_args()
    main(epochs=args.epochs, fine_tune_epochs=args.fine_tune_epochs)
