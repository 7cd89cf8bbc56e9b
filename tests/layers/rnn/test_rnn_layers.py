"""Recurrent layers against real Keras 3: outputs and gradients with the same weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import rnn as R
from tests.layer_test_utils import run_layer_test


def _keras():
    import keras

    return keras


# ---- run_layer_test over argument combinations ----------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"units": 2, "return_sequences": True, "unroll": True, "use_bias": False},
    {"units": 3, "activation": "relu", "recurrent_dropout": 0.2, "dropout": 0.1},
])
def test_simple_rnn(kwargs):
    seq = kwargs.get("return_sequences", False)
    run_layer_test(R.SimpleRNN, kwargs, input_shape=(2, 4, 5),
                   expected_output_shape=(2, 4, kwargs["units"]) if seq else (2, kwargs["units"]),
                   expected_num_trainable_weights=3 if kwargs.get("use_bias", True) else 2,
                   expected_num_non_trainable_weights=0)


@pytest.mark.parametrize("kwargs", [
    {"units": 3, "return_sequences": True, "go_backwards": True, "unit_forget_bias": False,
     "bias_initializer": "random_normal"},
    {"units": 2, "return_sequences": True, "unroll": True},
    {"units": 3, "recurrent_activation": "hard_sigmoid", "implementation": 1, "use_bias": False},
])
def test_lstm(kwargs):
    seq = kwargs.get("return_sequences", False)
    layer, _ = run_layer_test(
        R.LSTM, kwargs, input_shape=(2, 4, 5),
        expected_output_shape=(2, 4, kwargs["units"]) if seq else (2, kwargs["units"]),
        expected_num_trainable_weights=3 if kwargs.get("use_bias", True) else 2)
    assert [w.path for w in layer.weights][:2] == [
        f"{layer.name}/lstm_cell/kernel", f"{layer.name}/lstm_cell/recurrent_kernel"]


def test_lstm_return_state_and_forget_bias():
    layer, out = run_layer_test(R.LSTM, {"units": 3, "return_state": True}, input_shape=(2, 4, 5))
    assert len(out) == 3
    np.testing.assert_allclose(np.asarray(out[0]), np.asarray(out[1]))
    bias = layer.cell.bias.numpy()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(3), np.ones(3), np.zeros(6)])
    assert layer.cell.kernel.shape == (5, 12) and layer.cell.recurrent_kernel.shape == (3, 12)


@pytest.mark.parametrize("kwargs", [
    {"units": 3, "reset_after": False, "return_sequences": True},
    {"units": 2, "reset_after": False, "go_backwards": True, "unroll": True},
    {"units": 3, "return_state": True, "bias_initializer": "random_uniform"},
])
def test_gru(kwargs):
    layer, _ = run_layer_test(R.GRU, kwargs, input_shape=(2, 4, 5))
    if kwargs.get("use_bias", True):
        u3 = 3 * kwargs["units"]
        expected = (2, u3) if kwargs.get("reset_after", True) else (u3,)
        assert layer.cell.bias.shape == expected


@pytest.mark.parametrize("cls,kwargs", [
    (R.SimpleRNNCell, {"units": 3}),
    (R.LSTMCell, {"units": 3}),
    (R.GRUCell, {"units": 3}),
    (R.GRUCell, {"units": 3, "reset_after": False}),
])
def test_cells_in_rnn(cls, kwargs):
    def make(cell_cls):
        def factory(**kw):
            return R.RNN(cell_cls(**kwargs), **kw)
        return factory

    keras = _keras()
    kcell_cls = getattr(keras.layers, cls.__name__)

    class KRNN(keras.layers.RNN):
        def __init__(self, **kw):
            super().__init__(kcell_cls(**kwargs), **kw)

    class RNNWithCell(R.RNN):
        def __init__(self, cell=None, **kw):
            super().__init__(cell or cls(**kwargs), **kw)


    run_layer_test(RNNWithCell, {"return_sequences": True}, input_shape=(2, 3, 4),
                   keras_cls=KRNN, expected_output_shape=(2, 3, 3))


def test_cell_direct_call():
    keras = _keras()
    for cls, states in [(R.LSTMCell, 2), (R.GRUCell, 1), (R.SimpleRNNCell, 1)]:
        cell = cls(3)
        kcell = getattr(keras.layers, cls.__name__)(3)
        x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
        s = [np.random.default_rng(1).standard_normal((2, 3)).astype("float32")] * states
        out, new = cell(x, s)
        kcell(x, s)
        kcell.set_weights(cell.get_weights())
        kout, knew = kcell(x, s)
        np.testing.assert_allclose(out, kout, atol=1e-6)
        for a, b in zip(new, knew):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_rnn_config_matches_keras():
    keras = _keras()
    pairs = [(R.LSTM(3), keras.layers.LSTM(3)), (R.GRU(3), keras.layers.GRU(3)),
             (R.SimpleRNN(3), keras.layers.SimpleRNN(3)),
             (R.LSTMCell(3), keras.layers.LSTMCell(3)), (R.GRUCell(3), keras.layers.GRUCell(3)),
             (R.SimpleRNNCell(3), keras.layers.SimpleRNNCell(3)),
             (R.ConvLSTM2D(2, 3), keras.layers.ConvLSTM2D(2, 3)),
             (R.ConvLSTM1D(2, 3), keras.layers.ConvLSTM1D(2, 3)),
             (R.Bidirectional(R.LSTM(2)), keras.layers.Bidirectional(keras.layers.LSTM(2))),
             (R.TimeDistributed(kj.layers.Dense(2)),
              keras.layers.TimeDistributed(keras.layers.Dense(2))),
             (R.RNN(R.LSTMCell(2)), keras.layers.RNN(keras.layers.LSTMCell(2))),
             (R.StackedRNNCells([R.LSTMCell(2)]),
              keras.layers.StackedRNNCells([keras.layers.LSTMCell(2)]))]
    for ours, theirs in pairs:
        a, b = ours.get_config(), theirs.get_config()
        assert set(a) == set(b), (type(ours).__name__, set(a) ^ set(b))
        for k in a:
            if k in ("name", "layer", "backward_layer", "cell", "cells"):
                continue
            assert a[k] == b[k] or (isinstance(b[k], tuple) and list(b[k]) == list(a[k])), (k, a[k], b[k])


# ---- masks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,seq,back,unroll", [
    ("LSTM", True, False, False), ("GRU", False, True, False), ("SimpleRNN", True, True, True),
    ("LSTM", False, False, True)])
def test_masking_matches_keras(name, seq, back, unroll):
    keras = _keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 4)).astype("float32")
    x[0, 3:] = 0.0
    x[1, :2] = 0.0
    x[2, 2] = 0.0
    kw = dict(return_sequences=seq, go_backwards=back, unroll=unroll, return_state=True)

    inp = kj.Input((5, 4))
    layer = getattr(R, name)(3, **kw)
    outs = layer(kj.layers.core.Masking()(inp) if hasattr(kj.layers, "core") else inp)
    model = kj.Model(inp, outs)

    kinp = keras.Input((5, 4))
    klayer = getattr(keras.layers, name)(3, **kw)
    kmodel = keras.Model(kinp, klayer(keras.layers.Masking()(kinp)))
    kmodel.set_weights(model.get_weights())
    for a, b in zip(model(x), kmodel(x)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    # Direct `mask=` argument.
    mask = np.any(x != 0, axis=-1)
    for a, b in zip(layer(x, mask=mask), klayer(x, mask=mask)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def test_mask_propagates_from_embedding():
    keras = _keras()
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    model = kj.Sequential([kj.layers.Embedding(8, 4, mask_zero=True),
                           R.LSTM(3, return_sequences=True), R.GRU(2)])
    kmodel = keras.Sequential([keras.layers.Embedding(8, 4, mask_zero=True),
                               keras.layers.LSTM(3, return_sequences=True),
                               keras.layers.GRU(2)])
    model.build((None, 5))
    kmodel.build((None, 5))
    kmodel.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(ids, verbose=0), kmodel.predict(ids, verbose=0),
                               atol=1e-5)
    layer = R.LSTM(3, return_sequences=True)
    m = np.array([[True, False]])
    assert layer.compute_mask(None, m) is m
    assert R.LSTM(3).compute_mask(None, m) is None


# ---- initial_state ------------------------------------------------------------------------------
@pytest.mark.parametrize("name,n", [("LSTM", 2), ("GRU", 1), ("SimpleRNN", 1)])
def test_initial_state_matches_keras(name, n):
    keras = _keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    states = [rng.standard_normal((2, 3)).astype("float32") for _ in range(n)]
    layer = getattr(R, name)(3, return_sequences=True)
    klayer = getattr(keras.layers, name)(3, return_sequences=True)
    layer(x)
    klayer(x)
    klayer.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, initial_state=states),
                               klayer(x, initial_state=states), atol=1e-5)
    # Symbolic initial states in a functional model.
    inp = kj.Input((4, 5))
    sin = [kj.Input((3,)) for _ in range(n)]
    model = kj.Model([inp] + sin, layer(inp, initial_state=sin))
    np.testing.assert_allclose(model([x] + states), klayer(x, initial_state=states), atol=1e-5)


# ---- custom cells, stacking ---------------------------------------------------------------------
class MinimalRNNCell(kj.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        prev = states[0]
        out = jnp.matmul(inputs, self.kernel.value) + jnp.matmul(prev, self.recurrent_kernel.value)
        return out, [out]


def test_custom_cell_and_stacked_cells_match_keras():
    keras = _keras()

    class KMinimal(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            prev = states[0]
            out = keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(prev, self.recurrent_kernel)
            return out, [out]

    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype("float32")
    cases = [
        (lambda: R.RNN(MinimalRNNCell(3), return_sequences=True),
         lambda: keras.layers.RNN(KMinimal(3), return_sequences=True)),
        (lambda: R.RNN([MinimalRNNCell(3), R.LSTMCell(2)], return_state=True),
         lambda: keras.layers.RNN([KMinimal(3), keras.layers.LSTMCell(2)], return_state=True)),
        (lambda: R.RNN(R.StackedRNNCells([R.GRUCell(3), R.SimpleRNNCell(2)]), go_backwards=True),
         lambda: keras.layers.RNN(keras.layers.StackedRNNCells(
             [keras.layers.GRUCell(3), keras.layers.SimpleRNNCell(2)]), go_backwards=True)),
    ]
    for make, kmake in cases:
        layer, klayer = make(), kmake()
        out = layer(x)
        klayer(x)
        assert [tuple(w.shape) for w in layer.weights] == [tuple(w.shape) for w in klayer.weights]
        klayer.set_weights(layer.get_weights())
        kout = klayer(x)
        for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(kout)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
        # symbolic shapes agree with the eager ones
        sym = layer(kj.Input((4, 5)))
        for s, a in zip(jax.tree.leaves(sym), jax.tree.leaves(out)):
            assert tuple(s.shape)[1:] == tuple(a.shape)[1:]


def test_stacked_rnn_cells_layer_test():
    keras = _keras()

    class Ours(R.RNN):
        def __init__(self, cell=None, **kw):
            super().__init__(cell or R.StackedRNNCells([R.LSTMCell(3), R.GRUCell(2)]), **kw)


    class Theirs(keras.layers.RNN):
        def __init__(self, **kw):
            super().__init__(keras.layers.StackedRNNCells(
                [keras.layers.LSTMCell(3), keras.layers.GRUCell(2)]), **kw)

    run_layer_test(Ours, {"return_sequences": True}, input_shape=(2, 3, 4), keras_cls=Theirs,
                   expected_output_shape=(2, 3, 2))


def test_bad_cell_errors():
    with pytest.raises(ValueError, match="call"):
        R.RNN(object())
    with pytest.raises(ValueError, match="units"):
        R.LSTM(0)
    with pytest.raises(ValueError, match="merge mode"):
        R.Bidirectional(R.LSTM(2), merge_mode="max")


# ---- Bidirectional, TimeDistributed ---------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"merge_mode": "sum", "seq": True},
    {"merge_mode": "mul", "seq": True, "gru": True},
    {"merge_mode": None, "seq": True},
])
def test_bidirectional(kwargs):
    keras = _keras()
    seq = kwargs.get("seq", False)
    inner = "GRU" if kwargs.get("gru") else "LSTM"

    class Ours(R.Bidirectional):
        def __init__(self, layer=None, merge_mode="concat", **kw):
            super().__init__(layer or getattr(R, inner)(3, return_sequences=seq),
                             merge_mode=merge_mode, **kw)

    class Theirs(keras.layers.Bidirectional):
        def __init__(self, merge_mode="concat", **kw):
            super().__init__(getattr(keras.layers, inner)(3, return_sequences=seq),
                             merge_mode=merge_mode, **kw)

    layer, _ = run_layer_test(Ours, {"merge_mode": kwargs["merge_mode"]}, input_shape=(2, 4, 5),
                              keras_cls=Theirs, run_training_check=kwargs["merge_mode"] is not None)
    parts = layer.weights[0].path.split("/")
    assert parts[0] == layer.name and parts[1].startswith(f"forward_{inner.lower()}")
    assert parts[2:] == [f"{inner.lower()}_cell", "kernel"]
    assert layer.weights[3].path.split("/")[1].startswith(f"backward_{inner.lower()}")


def test_bidirectional_backward_layer_state_and_mask():
    keras = _keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    states = [rng.standard_normal((2, 3)).astype("float32") for _ in range(4)]
    layer = R.Bidirectional(R.LSTM(3, return_sequences=True, return_state=True),
                            backward_layer=R.LSTM(3, return_sequences=True, return_state=True,
                                                  go_backwards=True))
    klayer = keras.layers.Bidirectional(
        keras.layers.LSTM(3, return_sequences=True, return_state=True),
        backward_layer=keras.layers.LSTM(3, return_sequences=True, return_state=True,
                                         go_backwards=True))
    out = layer(x)
    klayer(x)
    klayer.set_weights(layer.get_weights())
    for kw in ({}, {"mask": mask}, {"initial_state": states}):
        for a, b in zip(layer(x, **kw), klayer(x, **kw)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    assert len(out) == 5
    clone = R.Bidirectional.from_config(layer.get_config())
    assert clone.backward_layer.go_backwards


@pytest.mark.parametrize("inner", ["dense", "conv"])
def test_time_distributed(inner):
    keras = _keras()
    if inner == "dense":
        class Ours(R.TimeDistributed):
            def __init__(self, layer=None, **kw):
                super().__init__(layer or kj.layers.Dense(3), **kw)

        class Theirs(keras.layers.TimeDistributed):
            def __init__(self, **kw):
                super().__init__(keras.layers.Dense(3), **kw)

        run_layer_test(Ours, {}, input_shape=(2, 4, 5), keras_cls=Theirs,
                       expected_output_shape=(2, 4, 3), expected_num_trainable_weights=2)
    else:
        from keras_on_jax.layers import reshaping

        class Ours(R.TimeDistributed):
            def __init__(self, layer=None, **kw):
                super().__init__(layer or reshaping.Flatten(), **kw)

        class Theirs(keras.layers.TimeDistributed):
            def __init__(self, **kw):
                super().__init__(keras.layers.Flatten(), **kw)

        run_layer_test(Ours, {}, input_shape=(2, 3, 2, 2), keras_cls=Theirs,
                       expected_output_shape=(2, 3, 4))


def test_time_distributed_then_lstm_model():
    model = kj.Sequential([kj.Input((4, 5)), R.TimeDistributed(kj.layers.Dense(3)),
                           R.LSTM(2)])
    assert model.output_shape == (None, 2)
    path = model.weights[0].path
    assert path.split("/")[-3].startswith("time_distributed") and path.split("/")[-2].startswith("dense"), path


# ---- ConvLSTM ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs,shape", [
    (R.ConvLSTM1D, {"filters": 2, "kernel_size": 2, "padding": "same", "strides": 2,
                    "return_sequences": True}, (2, 3, 5, 2)),
    (R.ConvLSTM2D, {"filters": 2, "kernel_size": (2, 3), "dilation_rate": 2,
                    "return_sequences": True, "go_backwards": True}, (1, 2, 6, 6, 1)),
    (R.ConvLSTM2D, {"filters": 2, "kernel_size": 3, "data_format": "channels_first",
                    "return_state": True}, (1, 2, 2, 5, 5)),
    (R.ConvLSTM3D, {"filters": 2, "kernel_size": 2}, (1, 2, 3, 3, 3, 1)),
])
def test_conv_lstm(cls, kwargs, shape):
    run_layer_test(cls, kwargs, input_shape=shape, expected_num_trainable_weights=3)


# ---- dropout (SeedGenerator-based) --------------------------------------------------------------------
def test_dropout_training_behaviour():
    x = np.ones((4, 3, 5), "float32")
    layer = R.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
    a = layer(x, training=False)
    b = layer(x, training=False)
    np.testing.assert_array_equal(a, b)
    c = layer(x, training=True)
    d = layer(x, training=True)
    assert not np.allclose(c, a) and not np.allclose(c, d)
    for cls in (R.GRU, R.SimpleRNN):
        layer = cls(4, dropout=0.5, recurrent_dropout=0.3, seed=2)
        assert not np.allclose(layer(x, training=True), layer(x, training=False))
    # In a compiled training step the masks change from step to step.
    model = kj.Sequential([kj.Input((3, 5)), R.GRU(4, dropout=0.5, seed=3), kj.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(x, np.zeros((4, 1)), epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))


# ---- the loop that keeps only the last output ---------------------------------------------------
@pytest.mark.parametrize("output_is_state", [False, True])
@pytest.mark.parametrize("masked,back,zero_out", [
    (False, False, False), (False, True, False), (True, False, False), (True, True, False),
    (True, False, True)])
def test_last_output_loop_equals_all_outputs_loop(masked, back, zero_out, output_is_state):
    """With `return_sequences=False` the loop carries the last output (or reads it from the
    final states, for a cell whose output is its first state) instead of stacking all of
    them; values and gradients must equal the last step of the stacking loop."""
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((3, 6, 4)), "float32")
    params = (jnp.asarray(rng.standard_normal((4, 5)), "float32"),
              jnp.asarray(rng.standard_normal((5, 5)) * 0.3, "float32"))
    mask = jnp.asarray([[1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0]], bool)

    def run(params, all_outputs):
        w, u = params

        def step(x_t, states):
            h, (c,) = states[0], states[1]
            h = jnp.tanh(x_t @ w + h @ u)
            # nested states; the output is either the first state or no state at all
            return h if output_is_state else 2.0 * h + c, [h, [c + h]]

        init = [jnp.zeros((3, 5)), [jnp.ones((3, 5))]]
        return R.rnn.rnn_loop(step, x, init, go_backwards=back, mask=mask if masked else None,
                              zero_output_for_mask=zero_out, return_all_outputs=all_outputs)

    last_a, outputs_a, states_a = run(params, True)
    last_b, outputs_b, states_b = run(params, False)
    assert outputs_a.shape == (3, 6, 5) and outputs_b.shape == (3, 1, 5)
    np.testing.assert_array_equal(np.asarray(outputs_a[:, -1]), np.asarray(last_a))
    np.testing.assert_array_equal(np.asarray(outputs_b[:, 0]), np.asarray(last_b))
    for a, b in zip(jax.tree.leaves((last_a, states_a)), jax.tree.leaves((last_b, states_b))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)

    def loss(params, all_outputs):
        out, _, states = run(params, all_outputs)
        return jnp.sum(out ** 2) + jnp.sum(jax.tree.leaves(states)[-1])

    g_all = jax.grad(loss)(params, True)
    g_last = jax.grad(loss)(params, False)
    for a, b in zip(g_all, g_last):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
