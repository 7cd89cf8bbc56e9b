"""Train the digits convnet (examples/digits_convnet.py), export it to ONNX, and serve the
file with ONNX Runtime: the serving side needs neither JAX nor this package.

    pip install onnx onnx-ir onnxruntime && pip install --no-deps jax2onnx==0.17.1
    python examples/export_onnx_digits.py
"""

import os
import tempfile
import time

import numpy as np
import onnxruntime as ort
from digits_convnet import build_model, load_data

import keras_on_jax as keras


def serve(path, images):
    """What a serving process runs: ONNX Runtime on the exported file."""
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (model_input,) = session.get_inputs()
    print(f"ONNX input '{model_input.name}' of shape {model_input.shape}")
    return session.run(None, {model_input.name: images})[0]


def main(epochs=10, path=None):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)

    path = path or os.path.join(tempfile.mkdtemp(), "digits.onnx")
    model.export(path, format="onnx")  # dynamic batch size, inference mode

    start = time.perf_counter()
    probabilities = serve(path, x_test)
    seconds = time.perf_counter() - start
    onnx_accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y_test))
    max_difference = float(np.max(np.abs(probabilities - model.predict(x_test, verbose=0))))
    single = serve(path, x_test[:1])  # the same file serves one image too
    print(f"keras_on_jax accuracy {accuracy:.4f}; ONNX Runtime accuracy {onnx_accuracy:.4f} "
          f"on {len(x_test)} images in {seconds * 1000:.1f} ms (session included)")
    print(f"largest |ONNX - predict| difference: {max_difference:.2e}; "
          f"first image: class {int(np.argmax(single))} (label {y_test[0]})")
    return accuracy, onnx_accuracy, max_difference


if __name__ == "__main__":
    main()
