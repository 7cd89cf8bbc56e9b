"""Train a small convnet on scikit-learn's bundled digits (8x8 images), then evaluate,
save, reload and predict. No download: the data ships with scikit-learn.

    python examples/digits_convnet.py
"""

import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits

import keras_on_jax as keras
from keras_on_jax import layers


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: the digits as 8x8x1 images in [0, 1]."""
    digits = load_digits()
    x = (digits.images.astype("float32") / 16.0)[..., None]  # (1797, 8, 8, 1)
    y = digits.target.astype("int32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:1500], y[:1500]), (x[1500:], y[1500:])


def build_model():
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def main(epochs=15):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build_model()
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")

    path = os.path.join(tempfile.mkdtemp(), "digits.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    predictions = reloaded.predict(x_test, verbose=0)
    same = np.allclose(predictions, model.predict(x_test, verbose=0), atol=1e-6)
    reloaded_accuracy = float(np.mean(np.argmax(predictions, axis=1) == y_test))
    print(f"reloaded from {path}: accuracy {reloaded_accuracy:.4f}, same predictions: {same}")
    return accuracy, same


if __name__ == "__main__":
    main()
