"""The Keras FAQ's code blocks, each run as a program in a fresh process through the runner.

Every block of `keras-faq.md` is here verbatim (between `# FAQ >>>` and `# <<< FAQ`),
with a prelude that supplies what the FAQ leaves to the reader (the data, the model being
saved, `AttentionLayer`, `ResNet50Base`, ...) and a postlude that checks the result.
Where the FAQ writes a placeholder (`model.compile(...)`, `model = ...`), the smallest
real call replaces it; each replacement is named in a comment.

Fresh processes catch what in-process tests can miss: state left behind by earlier tests
(the FAQ's stateful-RNN recipe once failed only as the first thing a process ran).
"""

import os
import subprocess
import sys
import textwrap

import pytest

COMMON = """
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Dense, Dropout
from tensorflow.keras.models import Sequential, load_model
rng = np.random.default_rng(0)
"""


def _small_model():
    return """
model = Sequential([keras.Input((3,)), Dense(4, activation="relu", name="hidden"), Dense(1)])
model.compile(optimizer="adam", loss="mse")
x = rng.standard_normal((64, 3)).astype("float32")
y = x.sum(axis=1, keepdims=True)
model.fit(x, y, epochs=2, verbose=0)
"""


PROGRAMS = {
    # ---- multi-GPU: MirroredStrategy over the host's devices (the suite runs with 8) -----
    "mirrored_strategy": (COMMON + """
x = rng.standard_normal((64, 28, 28, 1)).astype("float32")
y = rng.integers(0, 10, 64)
train_dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
callbacks = [keras.callbacks.History()]
# FAQ >>>
strategy = tf.distribute.MirroredStrategy()
with strategy.scope():
    # 어떤 종류의 모델도 가능합니다. -- 함수형, 서브클래싱 등등
    model = tf.keras.Sequential([
        tf.keras.layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)),
        tf.keras.layers.GlobalMaxPooling2D(),
        tf.keras.layers.Dense(10)
    ])
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
model.fit(train_dataset, epochs=12, callbacks=callbacks)
# <<< FAQ
losses = callbacks[0].history["loss"]
assert strategy.num_replicas_in_sync == 8, strategy.num_replicas_in_sync
assert len(losses) == 12 and losses[-1] < losses[0], losses
print("OK replicas", strategy.num_replicas_in_sync)
""", 1, ["OK replicas 8"]),

    # ---- device placement of model parts ---------------------------------------------------
    "device_scopes": (COMMON + """
# FAQ >>>
# 공유 LSTM을 사용해 두 개의 다른 시퀀스를 병렬로 인코딩하는 모델
input_a = keras.Input(shape=(140, 256))
input_b = keras.Input(shape=(140, 256))

shared_lstm = keras.layers.LSTM(64)

# 한 GPU에서 첫 번째 시퀀스를 처리합니다.
with tf.device_scope('/gpu:0'):
    encoded_a = shared_lstm(input_a)
# 다른 GPU에서 다음 시퀀스를 처리합니다.
with tf.device_scope('/gpu:1'):
    encoded_b = shared_lstm(input_b)

# CPU에서 결과를 합칩니다.
with tf.device_scope('/cpu:0'):
    merged_vector = keras.layers.concatenate(
        [encoded_a, encoded_b], axis=-1)
# <<< FAQ
model = keras.Model([input_a, input_b], merged_vector)
a = rng.standard_normal((2, 140, 256)).astype("float32")
b = rng.standard_normal((2, 140, 256)).astype("float32")
out = model.predict([a, b], verbose=0)
np.testing.assert_allclose(out[:, :64], np.asarray(shared_lstm(a)), atol=1e-5)
np.testing.assert_allclose(out[:, 64:], np.asarray(shared_lstm(b)), atol=1e-5)
print("OK", out.shape)
""", 1, ["OK (2, 128)"]),

    # ---- reproducibility ------------------------------------------------------------------
    "seeds": ("""
# FAQ >>>
import numpy as np
import tensorflow as tf
import random as python_random

# 넘파이 랜덤 시드 값을 위해 필요합니다.
np.random.seed(123)

# 파이썬 랜덤 시드 값을 위해 필요합니다.
python_random.seed(123)

# set_seed() 함수는 텐서플로의 랜덤 숫자 생성을 위해 필요합니다.
# 자세한 내용은 다음을 참조하세요:
# https://www.tensorflow.org/api_docs/python/tf/random/set_seed
tf.random.set_seed(1234)

# 나머지 코드가 이어집니다 ...
# <<< FAQ
from tensorflow import keras
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dropout(0.5)])
model.compile(optimizer="sgd", loss="mse")
x = np.random.random((16, 3))
model.fit(x, np.random.random((16, 2)), epochs=2, verbose=0)
print("WEIGHTS", np.round(model.get_weights()[0].ravel(), 6).tolist())
""", 2, ["WEIGHTS"]),

    # ---- whole-model saving, weights, JSON --------------------------------------------------
    "save_and_load": (COMMON + _small_model() + """
expected = model.predict(x, verbose=0)
# FAQ >>>
from tensorflow.keras.models import load_model

model.save('my_model')  # HDF5 파일 'my_model.h5'을 만듭니다
del model  # 기존 모델을 삭제합니다

# 이전과 동일한 컴파일된 모델을 반환합니다
model = load_model('my_model')
# <<< FAQ
np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
assert model.optimizer is not None and model.optimizer.iterations.numpy() > 0
# FAQ >>>
model.save_weights('my_model_weights.h5')
# <<< FAQ
saved = model.get_weights()
model.set_weights([np.zeros_like(w) for w in saved])
# FAQ >>>
model.load_weights('my_model_weights.h5')
# <<< FAQ
np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
model.set_weights([np.zeros_like(w) for w in saved])
# FAQ >>>
model.load_weights('my_model_weights.h5', by_name=True)
# <<< FAQ
np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
# FAQ >>>
# JSON으로 저장합니다.
json_string = model.to_json()
# <<< FAQ
# FAQ >>>
# JSON에서 모델 재생성:
from tensorflow.keras.models import model_from_json
model = model_from_json(json_string)
# <<< FAQ
assert [l.name for l in model.layers] == ["hidden", "dense"], [l.name for l in model.layers]
model.load_weights('my_model_weights.h5')
np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
print("OK")
""", 1, ["OK"]),

    "load_weights_by_name": (COMMON + """
model = Sequential()
model.add(Dense(2, input_dim=3, name='dense_1'))
model.add(Dense(3, name='dense_2'))
fname = 'original_weights.h5'  # Keras 2's weights file, as the FAQ's `save_weights` wrote it
model.save_weights(fname)
original = model.get_weights()
# FAQ >>>
\"\"\"
원래 모델이 다음과 같다고 가정합니다:

model = Sequential()
model.add(Dense(2, input_dim=3, name='dense_1'))
model.add(Dense(3, name='dense_2'))
...
model.save_weights(fname)
\"\"\"

# 새로운 모델
model = Sequential()
model.add(Dense(2, input_dim=3, name='dense_1'))  # 가중치 적재 가능
model.add(Dense(10, name='new_dense'))  # 가중치 적재 불가능

# 원래 모델에서 로드한 가중치는 첫 번째 층인 dense_1에만 영향을 미칩니다.
model.load_weights(fname, by_name=True)
# <<< FAQ
np.testing.assert_array_equal(model.layers[0].get_weights()[0], original[0])
np.testing.assert_array_equal(model.layers[0].get_weights()[1], original[1])
print("OK")
""", 1, ["OK"]),

    "custom_objects": (COMMON + """
class AttentionLayer(keras.layers.Layer):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")

    def call(self, inputs):
        return keras.ops.softmax(keras.ops.matmul(inputs, self.w))

    def get_config(self):
        return {**super().get_config(), "units": self.units}

inp = keras.Input((3,))
model = keras.Model(inp, AttentionLayer(4, name="attention")(inp))
model.compile(optimizer="sgd", loss="mse")
x = rng.standard_normal((5, 3)).astype("float32")
expected = model.predict(x, verbose=0)
model.save('my_model.h5')
json_string = model.to_json()
# FAQ >>>
from tensorflow.keras.models import load_model
# "AttentionLayer" 클래스의 객체를 포함한 모델이라고 가정합니다.
model = load_model('my_model.h5', custom_objects={'AttentionLayer': AttentionLayer})
# <<< FAQ
np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
# FAQ >>>
from tensorflow.keras.utils import CustomObjectScope

with CustomObjectScope({'AttentionLayer': AttentionLayer}):
    model = load_model('my_model.h5')
# <<< FAQ
np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
# FAQ >>>
from tensorflow.keras.models import model_from_json
model = model_from_json(json_string, custom_objects={'AttentionLayer': AttentionLayer})
# <<< FAQ
assert isinstance(model.get_layer("attention"), AttentionLayer)
print("OK")
""", 1, ["OK"]),

    # ---- data that does not fit in memory -------------------------------------------------
    "fit_dataset": (COMMON + _small_model() + """
dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(16)
# FAQ >>>
model.fit(dataset, epochs=10)
# <<< FAQ
assert len(model.history.history["loss"]) == 10
print("OK")
""", 1, ["OK"]),

    # ---- checkpoints every 100 batches, then resume in a new process ------------------------
    "checkpoint_and_restore": ("""
import numpy as np
import tensorflow as tf
rng = np.random.default_rng(0)
x = rng.standard_normal((160, 3)).astype("float32")
train_data = tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1, keepdims=True))).batch(8)
# FAQ >>>
import os
from tensorflow import keras

# Prepare a directory to store all the checkpoints.
checkpoint_dir = './ckpt'
if not os.path.exists(checkpoint_dir):
    os.makedirs(checkpoint_dir)


def make_model():
    # Create a new linear regression model.
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer='adam', loss='mse')
    return model


def make_or_restore_model():
    # Either restore the latest model, or create a fresh one
    # if there is no checkpoint available.
    checkpoints = [checkpoint_dir + '/' + name
                   for name in os.listdir(checkpoint_dir)]
    if checkpoints:
        latest_checkpoint = max(checkpoints, key=os.path.getctime)
        print('Restoring from', latest_checkpoint)
        return keras.models.load_model(latest_checkpoint)
    print('Creating a new model')
    return make_model()


model = make_or_restore_model()
callbacks = [
    # This callback saves a SavedModel every 100 batches.
    # We include the training loss in the folder name.
    keras.callbacks.ModelCheckpoint(
        filepath=checkpoint_dir + '/ckpt-loss={loss:.2f}',
        save_freq=100)
]
model.fit(train_data, epochs=10, callbacks=callbacks)
# <<< FAQ
print("CHECKPOINTS", len(os.listdir(checkpoint_dir)))
print("ITERATIONS", int(model.optimizer.iterations.numpy()))
""", 2, ["Creating a new model", "Restoring from ./ckpt/ckpt-loss=", "ITERATIONS 400"]),

    "early_stopping": (COMMON + _small_model() + """
y = rng.standard_normal((64, 1)).astype("float32")  # noise: the validation loss stalls
# FAQ >>>
from tensorflow.keras.callbacks import EarlyStopping

early_stopping = EarlyStopping(monitor='val_loss', patience=2)
model.fit(x, y, validation_split=0.2, callbacks=[early_stopping])
# <<< FAQ
print("OK")
""", 1, ["OK"]),

    # ---- trainable vs training --------------------------------------------------------------
    "trainable_attribute": (COMMON + """
# FAQ >>> (its interactive session, without the prompts and printed values)
layer = Dense(3)
layer.build(input_shape=(3, 3)) # Create the weights of the layer
assert layer.trainable
assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]
layer.trainable = False
assert layer.trainable_weights == []
# <<< FAQ
print("OK")
""", 1, ["OK"]),

    "frozen_base_in_fit": (COMMON + """
def ResNet50Base(input_shape, weights):
    # A small stand-in for a pretrained convolutional base (weights are not downloaded).
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(4, 3),
                             keras.layers.BatchNormalization(),
                             keras.layers.GlobalAveragePooling2D()], name="resnet50_base")
images = rng.standard_normal((8, 32, 32, 3)).astype("float32")
targets = rng.standard_normal((8, 10)).astype("float32")
# FAQ >>>
model = Sequential([
    ResNet50Base(input_shape=(32, 32, 3), weights='pretrained'),
    Dense(10),
])
model.layers[0].trainable = False  # Freeze ResNet50Base.

assert model.layers[0].trainable_weights == []  # ResNet50Base has no trainable weights.
assert len(model.trainable_weights) == 2  # Just the bias & kernel of the Dense layer.

# <<< FAQ
base_before = [w.numpy().copy() for w in model.layers[0].weights]
head_before = [w.numpy().copy() for w in model.layers[1].weights]
# FAQ (placeholders filled) >>>
model.compile(optimizer="adam", loss="mse")  # model.compile(...)
model.fit(images, targets, epochs=2, verbose=0)  # model.fit(...)  # Train Dense while excluding ResNet50Base.
# <<< FAQ
for a, w in zip(base_before, model.layers[0].weights):
    np.testing.assert_array_equal(a, w.numpy())  # moving statistics frozen too (BN)
assert all(not np.array_equal(a, w.numpy()) for a, w in zip(head_before, model.layers[1].weights))
print("OK")
""", 1, ["OK"]),

    "frozen_base_custom_loop": (COMMON + """
def ResNet50Base(input_shape, weights):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(4, 3),
                             keras.layers.GlobalAveragePooling2D()], name="resnet50_base")
images = rng.standard_normal((8, 32, 32, 3)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(
    (images, rng.standard_normal((8, 10)).astype("float32"))).batch(4)
loss_fn = keras.losses.MeanSquaredError()
optimizer = keras.optimizers.SGD(0.1)
# FAQ >>>
model = Sequential([
    ResNet50Base(input_shape=(32, 32, 3), weights='pretrained'),
    Dense(10),
])
model.layers[0].trainable = False  # Freeze ResNet50Base.
# <<< FAQ
base_before = [w.numpy().copy() for w in model.layers[0].weights]
head_before = [w.numpy().copy() for w in model.layers[1].weights]
# FAQ >>>
# Iterate over the batches of a dataset.
for inputs, targets in dataset:
    # Open a GradientTape.
    with tf.GradientTape() as tape:
        # Forward pass.
        predictions = model(inputs)
        # Compute the loss value for this batch.
        loss_value = loss_fn(targets, predictions)

    # Get gradients of loss wrt the *trainable* weights.
    gradients = tape.gradient(loss_value, model.trainable_weights)
    # Update the weights of the model.
    optimizer.apply_gradients(zip(gradients, model.trainable_weights))
# <<< FAQ
for a, w in zip(base_before, model.layers[0].weights):
    np.testing.assert_array_equal(a, w.numpy())
assert all(not np.array_equal(a, w.numpy()) for a, w in zip(head_before, model.layers[1].weights))
assert int(optimizer.iterations.numpy()) == 2
print("OK")
""", 1, ["OK"]),

    "gan_trainable_at_compile": (COMMON + """
discriminator = Sequential([keras.Input((4,)), Dense(1, activation="sigmoid")])
generator = Sequential([keras.Input((2,)), Dense(4)])
gan = Sequential([generator, discriminator])
# FAQ (placeholders filled) >>>
discriminator.compile(optimizer="sgd", loss="binary_crossentropy")  # discriminator.compile(...)  # the weights of `discriminator` should be updated when `discriminator` is trained
discriminator.trainable = False
gan.compile(optimizer="sgd", loss="binary_crossentropy")  # gan.compile(...)  # `discriminator` is a submodel of `gan`, which should not be updated when `gan` is trained
# <<< FAQ
d0 = [w.numpy().copy() for w in discriminator.weights]
g0 = [w.numpy().copy() for w in generator.weights]
gan.train_on_batch(rng.standard_normal((8, 2)), np.ones((8, 1)))
assert all(np.array_equal(a, w.numpy()) for a, w in zip(d0, discriminator.weights))
assert not any(np.array_equal(a, w.numpy()) for a, w in zip(g0, generator.weights))
discriminator.train_on_batch(rng.standard_normal((8, 4)), np.ones((8, 1)))
assert not any(np.array_equal(a, w.numpy()) for a, w in zip(d0, discriminator.weights))
print("OK")
""", 1, ["OK"]),

    "training_argument": (COMMON + """
x = np.ones((4, 100), "float32")
# FAQ >>>
y = Dropout(0.5)(x, training=True)  # Applies dropout at training time *and* inference time
# <<< FAQ
values = set(np.unique(np.asarray(y)).tolist())
assert values == {0.0, 2.0}, values
print("OK")
""", 1, ["OK"]),

    "autoscale_dropout": (COMMON + """
class AutoScaleDropout(keras.layers.Layer):
    # The FAQ's imagined layer: dropout whose output scale is a learned weight.
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.dropout = keras.layers.Dropout(rate)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, inputs, training=None):
        return self.scale * self.dropout(inputs, training=training)

x = np.ones((4, 100), "float32")
# FAQ >>>
layer = AutoScaleDropout(0.5)

# Applies dropout at training time *and* inference time
# *and* learns the scaling factor during training
y = layer(x, training=True)

assert len(layer.trainable_weights) == 1
# <<< FAQ
assert np.any(np.asarray(y) == 0)
# FAQ >>>
# Applies dropout at training time *and* inference time
# with a *frozen* scaling factor

layer = AutoScaleDropout(0.5)
layer.trainable = False
y = layer(x, training=True)
# <<< FAQ
assert np.any(np.asarray(y) == 0) and layer.trainable_weights == []
print("OK")
""", 1, ["OK"]),

    # ---- customizing fit ---------------------------------------------------------------------
    "custom_training_loop": (COMMON + """
model = Sequential([keras.Input((3,)), Dense(4, activation="softmax")])
probs = rng.dirichlet(np.ones(4), 32).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices((rng.standard_normal((32, 3)).astype("float32"), probs)).batch(8)
before = model.get_weights()[0].copy()
# FAQ >>>
# Prepare an optimizer.
optimizer = tf.keras.optimizers.Adam()
# Prepare a loss function.
loss_fn = tf.keras.losses.kl_divergence

# Iterate over the batches of a dataset.
for inputs, targets in dataset:
    # Open a GradientTape.
    with tf.GradientTape() as tape:
        # Forward pass.
        predictions = model(inputs)
        # Compute the loss value for this batch.
        loss_value = loss_fn(targets, predictions)

    # Get gradients of loss wrt the weights.
    gradients = tape.gradient(loss_value, model.trainable_weights)
    # Update the weights of the model.
    optimizer.apply_gradients(zip(gradients, model.trainable_weights))
# <<< FAQ
assert int(optimizer.iterations.numpy()) == 4
assert not np.array_equal(before, model.get_weights()[0])
print("OK")
""", 1, ["OK"]),

    "custom_train_step": ("""
# FAQ >>>
from tensorflow import keras
import tensorflow as tf
import numpy as np

class MyCustomModel(keras.Model):

    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value
            # (the loss function is configured in `compile()`)
            loss = self.compiled_loss(y, y_pred,
                                      regularization_losses=self.losses)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        # Update metrics (includes the metric that tracks the loss)
        self.compiled_metrics.update_state(y, y_pred)
        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


# Construct and compile an instance of MyCustomModel
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = MyCustomModel(inputs, outputs)
model.compile(optimizer='adam', loss='mse', metrics=['accuracy'])

# Just use `fit` as usual
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
model.fit(x, y, epochs=10)
# <<< FAQ
losses = model.history.history["loss"]
assert len(losses) == 10 and losses[-1] < losses[0], losses
assert "accuracy" in model.history.history
print("OK")
""", 1, ["OK"]),

    "custom_train_step_sample_weight": ("""
from tensorflow import keras
import tensorflow as tf
import numpy as np
# FAQ >>>
class MyCustomModel(keras.Model):

    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value.
            # The loss function is configured in `compile()`.
            loss = self.compiled_loss(y, y_pred,
                                      sample_weight=sample_weight,
                                      regularization_losses=self.losses)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))

        # Update the metrics.
        # Metrics are configured in `compile()`.
        self.compiled_metrics.update_state(
            y, y_pred, sample_weight=sample_weight)

        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


# Construct and compile an instance of MyCustomModel
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = MyCustomModel(inputs, outputs)
model.compile(optimizer='adam', loss='mse', metrics=['accuracy'])

# You can now use sample_weight argument
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
sw = np.random.random((1000, 1))
model.fit(x, y, sample_weight=sw, epochs=10)
# <<< FAQ
losses = model.history.history["loss"]
assert len(losses) == 10 and losses[-1] < losses[0], losses
print("OK")
""", 1, ["OK"]),

    "custom_test_step": ("""
from tensorflow import keras
import numpy as np
# FAQ >>>
class MyCustomModel(keras.Model):

    def test_step(self, data):
      # Unpack the data
      x, y = data
      # Compute predictions
      y_pred = self(x, training=False)
      # Updates the metrics tracking the loss
      self.compiled_loss(
          y, y_pred, regularization_losses=self.losses)
      # Update the metrics.
      self.compiled_metrics.update_state(y, y_pred)
      # Return a dict mapping metric names to current value.
      # Note that it will include the loss (tracked in self.metrics).
      return {m.name: m.result() for m in self.metrics}
# <<< FAQ
inputs = keras.Input(shape=(3,))
model = MyCustomModel(inputs, keras.layers.Dense(1, kernel_initializer="ones")(inputs))
model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
x = np.ones((8, 3), "float32")
result = model.evaluate(x, np.zeros((8, 1)), return_dict=True, verbose=0)
assert result == {"loss": 9.0, "mae": 3.0}, result
print("OK")
""", 1, ["OK"]),

    # ---- feature extraction -----------------------------------------------------------------
    "feature_extraction": ("""
import numpy as np
from tensorflow.keras.models import Sequential  # the FAQ block uses it unimported
data = np.random.default_rng(0).standard_normal((2, 28, 28, 3)).astype("float32")
# FAQ >>>
from tensorflow import keras
from tensorflow.keras import layers

model = Sequential([
    layers.Conv2D(32, 3, activation='relu'),
    layers.Conv2D(32, 3, activation='relu'),
    layers.MaxPooling2D(2),
    layers.Conv2D(32, 3, activation='relu'),
    layers.Conv2D(32, 3, activation='relu'),
    layers.GlobalMaxPooling2D(),
    layers.Dense(10),
])
# <<< FAQ
# The FAQ's model has no input shape, so it has no `inputs` until it is built; every Keras
# needs this line.
model.build((None, 28, 28, 3))
# FAQ >>>
extractor = keras.Model(inputs=model.inputs,
                        outputs=[layer.output for layer in model.layers])
features = extractor(data)
# <<< FAQ
assert [tuple(f.shape) for f in features] == [
    (2, 26, 26, 32), (2, 24, 24, 32), (2, 12, 12, 32), (2, 10, 10, 32), (2, 8, 8, 32),
    (2, 32), (2, 10)]
np.testing.assert_allclose(np.asarray(features[-1]), np.asarray(model(data)), atol=1e-5)
print("OK")
""", 1, ["OK"]),

    "intermediate_layer": ("""
import numpy as np
from tensorflow import keras
data = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
# FAQ (placeholder filled) >>>
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="my_layer"),
                          keras.layers.Dense(1)])  # model = ...  # create the original model

layer_name = 'my_layer'
intermediate_layer_model = keras.Model(inputs=model.input,
                                       outputs=model.get_layer(layer_name).output)
intermediate_output = intermediate_layer_model(data)
# <<< FAQ
kernel, bias = model.get_layer("my_layer").get_weights()
np.testing.assert_allclose(np.asarray(intermediate_output), data @ kernel + bias, atol=1e-5)
print("OK")
""", 1, ["OK"]),

    # ---- stateful RNNs ------------------------------------------------------------------------
    "stateful_rnn": ("""
# FAQ >>>
from tensorflow import keras
from tensorflow.keras import layers
import numpy as np

x = np.random.random((32, 21, 16))  # this is our input data, of shape (32, 21, 16)
# we will feed it to our model in sequences of length 10

model = keras.Sequential()
model.add(layers.LSTM(32, input_shape=(10, 16), batch_size=32, stateful=True))
model.add(layers.Dense(16, activation='softmax'))

model.compile(optimizer='rmsprop', loss='categorical_crossentropy')

# we train the network to predict the 11th timestep given the first 10:
model.train_on_batch(x[:, :10, :], np.reshape(x[:, 10, :], (32, 16)))

# the state of the network has changed. We can feed the follow-up sequences:
model.train_on_batch(x[:, 10:20, :], np.reshape(x[:, 20, :], (32, 16)))

# let's reset the states of the LSTM layer:
model.reset_states()

# another way to do it in this case:
model.layers[0].reset_states()
# <<< FAQ
assert all(np.all(np.asarray(v) == 0) for v in model.layers[0].states)
print("OK")
""", 1, ["OK"]),
}


def _run(cwd, source):
    script = cwd / "faq_program.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, "-m", "keras_on_jax", str(script)], cwd=cwd,
                          capture_output=True, text=True, env=dict(os.environ), timeout=600)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_faq_program_runs_in_a_fresh_process(name, tmp_path):
    source, runs, expected = PROGRAMS[name]
    outputs = []
    for _ in range(runs):
        proc = _run(tmp_path, source)
        assert proc.returncode == 0, f"{name}:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        outputs.append(proc.stdout)
    joined = "\n".join(outputs)
    for text in expected:
        assert text in joined, f"{name}: {text!r} not in output:\n{joined[-3000:]}"
    if name == "seeds":  # the same seeds give the same training, process to process
        first, second = (line for line in joined.splitlines() if line.startswith("WEIGHTS"))
        assert first == second
