"""Audio preprocessing layers MelSpectrogram and STFTSpectrogram (audio.py) vs Keras 3.

Keras implements both with backend-agnostic ops, so real Keras on JAX is a direct oracle
for outputs, shapes, configs, weights and files.
"""

import warnings

import numpy as np
import pytest

import keras_on_jax as kj


def _keras():
    import keras

    return keras


def _audio(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype("float32")


def _close(ours, theirs, atol=1e-4):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, atol=atol * scale, rtol=0)


# ---- MelSpectrogram ------------------------------------------------------------------------

MEL_CASES = [
    {},
    dict(fft_length=512, sequence_stride=128, num_mel_bins=40, sampling_rate=8000),
    dict(fft_length=256, sequence_length=200, window="hamming", power_to_db=False,
         mag_exp=1.0, max_freq=3000, min_freq=100.0),
    dict(fft_length=256, sequence_stride=100, window=None, top_db=20.0, ref_power=2.0,
         min_power=1e-6),
]


@pytest.mark.parametrize("kwargs", MEL_CASES)
def test_mel_spectrogram_matches_keras(kwargs):
    keras = _keras()
    x = _audio((2, 4000))
    ours, theirs = kj.layers.MelSpectrogram(**kwargs), keras.layers.MelSpectrogram(**kwargs)
    _close(ours(x), theirs(x))
    if not kwargs:
        _close(ours(x[0]), theirs(x[0]))  # unbatched
    assert ours.get_config() == {**theirs.get_config(), "dtype": ours.get_config()["dtype"]}
    assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))
    assert ours.compute_output_shape((4000,)) == tuple(theirs.compute_output_shape((4000,)))


def test_mel_spectrogram_docstring_shapes_and_mel_matrix():
    layer = kj.layers.MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256,
                                     fft_length=2048)
    assert layer(_audio((16000,))).shape == (64, 63)
    matrix = np.asarray(layer.linear_to_mel_weight_matrix(num_mel_bins=20,
                                                          num_spectrogram_bins=129))
    theirs = _keras().layers.MelSpectrogram().linear_to_mel_weight_matrix(
        num_mel_bins=20, num_spectrogram_bins=129)
    _close(matrix, theirs, atol=1e-6)
    assert matrix.shape == (129, 20) and np.all(matrix[0] == 0)
    np.testing.assert_allclose(matrix.max(axis=0), 1.0, atol=0.15)  # triangular peaks


def test_mel_spectrogram_config_round_trip_and_errors():
    keras = _keras()
    cfg = kj.layers.MelSpectrogram(fft_length=1024, sequence_length=512, max_freq=4000,
                                   num_mel_bins=32).get_config()
    assert cfg["sequence_length"] == 512 and cfg["max_freq"] == 4000
    assert keras.layers.MelSpectrogram.from_config(cfg).get_config()["num_mel_bins"] == 32
    again = kj.layers.MelSpectrogram.from_config(cfg)
    assert again.get_config() == cfg
    with pytest.raises(ValueError, match=r"`fft_length` must be greater than or equal to .*"
                                         r"`sequence_length`=512, `fft_length`=256"):
        kj.layers.MelSpectrogram(fft_length=256, sequence_length=512)


def test_mel_spectrogram_symbolic_shape():
    inputs = kj.Input((4000,))
    out = kj.layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=16)(inputs)
    theirs = _keras().layers.MelSpectrogram(fft_length=256, sequence_stride=128,
                                            num_mel_bins=16)(_keras().Input((4000,)))
    assert tuple(out.shape) == tuple(theirs.shape) == (None, 16, 32)
    dyn = kj.layers.MelSpectrogram(fft_length=256)(kj.Input((None,)))
    assert tuple(dyn.shape) == (None, 128, None)


def _mel_model(lib):
    inputs = lib.Input((2000,))
    x = lib.layers.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=16,
                                  sampling_rate=8000)(inputs)
    x = lib.layers.Flatten()(x)
    return lib.Model(inputs, lib.layers.Dense(3)(x))


def test_mel_spectrogram_model_fits_and_files_move_both_ways(tmp_path):
    keras = _keras()
    x, y = _audio((8, 2000)), np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    model = _mel_model(kj)
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / "ours.keras")
    model.save(path)
    theirs = keras.saving.load_model(path)
    assert type(theirs.layers[1]).__name__ == "MelSpectrogram"
    _close(theirs.predict(x, verbose=0), expected, atol=1e-4)

    k_model = _mel_model(keras)
    k_path = str(tmp_path / "theirs.keras")
    k_model.save(k_path)
    ours = kj.saving.load_model(k_path)
    assert type(ours.layers[1]) is kj.layers.MelSpectrogram
    _close(ours.predict(x, verbose=0), k_model.predict(x, verbose=0), atol=1e-4)


# ---- STFTSpectrogram -----------------------------------------------------------------------

STFT_CASES = [
    dict(),
    dict(mode="magnitude", padding="same", window="hamming"),
    dict(mode="psd", scaling="spectrum", periodic=True),
    dict(mode="real", data_format="channels_first"),
    dict(mode="imag", expand_dims=True),
    dict(mode="angle", scaling=None, data_format="channels_first", expand_dims=True),
    dict(mode="stft", padding="same", window=None),
    dict(mode="log", frame_step=32, fft_length=128, data_format="channels_first",
         padding="same", expand_dims=True),
]


@pytest.mark.parametrize("kwargs", STFT_CASES)
def test_stft_spectrogram_matches_keras(kwargs):
    keras = _keras()
    kwargs = {"frame_length": 64, **kwargs}
    x = _audio((2, 700, 3))
    if kwargs.get("data_format") == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    ours = kj.layers.STFTSpectrogram(name="stft", **kwargs)
    theirs = keras.layers.STFTSpectrogram(name="stft", **kwargs)
    a, b = np.asarray(ours(x)), np.asarray(theirs(x))
    assert a.shape == b.shape == tuple(theirs.compute_output_shape(x.shape))
    assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))
    if kwargs.get("mode") == "angle":
        # arctan2 near the branch cut / near-zero bins: compare on the circle, where defined.
        magnitude = np.asarray(kj.layers.STFTSpectrogram(**{**kwargs, "mode": "magnitude"})(x))
        diff = np.abs(a - b)
        diff = np.minimum(diff, 2 * np.pi - diff)
        assert np.all(diff[magnitude > 1e-3] < 1e-3)
    else:
        _close(a, b)
    # Weights: same names, shapes, order and values.
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    for w_ours, w_theirs in zip(ours.weights, theirs.weights, strict=True):
        _close(w_ours.numpy(), np.asarray(w_theirs.numpy()), atol=1e-6)
    ours_cfg, theirs_cfg = ours.get_config(), theirs.get_config()
    ours_cfg.pop("dtype"), theirs_cfg.pop("dtype")
    assert ours_cfg == theirs_cfg


def test_stft_spectrogram_weights_trainable_flag_and_h5_both_ways(tmp_path):
    keras = _keras()
    layer = kj.layers.STFTSpectrogram(frame_length=32, mode="log", name="spec")
    layer.build((None, 200, 1))
    assert [w.path for w in layer.trainable_weights] == ["spec/real_kernel", "spec/imag_kernel"]
    assert layer.weights[0].shape == (32, 1, 17)
    frozen = kj.layers.STFTSpectrogram(frame_length=32, trainable=False)
    frozen.build((None, 200, 1))
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    assert [w.trainable for w in frozen.weights] == [False, False]
    frozen.trainable = True
    assert [w.trainable for w in frozen.trainable_weights] == [True, True]
    only_real = kj.layers.STFTSpectrogram(frame_length=32, mode="real")
    only_real.build((None, 200, 1))
    assert [w.name for w in only_real.weights] == ["real_kernel"]

    def model(lib):
        inputs = lib.Input((200, 2))
        return lib.Model(inputs, lib.layers.STFTSpectrogram(frame_length=32, mode="stft")(inputs))

    x = _audio((2, 200, 2))
    ours, theirs = model(kj), model(keras)
    ours.set_weights([w + 0.1 for w in ours.get_weights()])
    path = str(tmp_path / "ours.weights.h5")
    ours.save_weights(path)
    theirs.load_weights(path)
    _close(theirs.predict(x, verbose=0), ours.predict(x, verbose=0))
    theirs.set_weights([np.asarray(w) * 0.5 for w in theirs.get_weights()])
    k_path = str(tmp_path / "theirs.weights.h5")
    theirs.save_weights(k_path)
    ours.load_weights(k_path)
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


def test_stft_spectrogram_symbolic_shapes():
    keras = _keras()
    for kwargs, shape in [
        (dict(frame_length=64), (None, 3)),
        (dict(frame_length=64, padding="same", mode="stft"), (500, 2)),
        (dict(frame_length=64, expand_dims=True), (500, 3)),
        (dict(frame_length=64, data_format="channels_first", padding="same"), (2, 501)),
        (dict(frame_length=64, data_format="channels_first", expand_dims=True), (2, 500)),
    ]:
        out = kj.layers.STFTSpectrogram(**kwargs)(kj.Input(shape))
        ref = keras.layers.STFTSpectrogram(**kwargs)(keras.Input(shape))
        assert tuple(out.shape) == tuple(ref.shape), kwargs
    assert kj.layers.STFTSpectrogram(
        mode="log", frame_length=256, frame_step=128, fft_length=512, window="hamming",
        padding="same")(_audio((1, 16000, 2))).shape == (1, 125, 514)


def test_stft_spectrogram_model_fits_and_keras_files_move_both_ways(tmp_path):
    keras = _keras()

    def model(lib):
        inputs = lib.Input((256, 1))
        x = lib.layers.STFTSpectrogram(frame_length=32, frame_step=16, mode="magnitude",
                                       trainable=False)(inputs)
        x = lib.layers.Flatten()(x)
        return lib.Model(inputs, lib.layers.Dense(2)(x))

    x, y = _audio((8, 256, 1)), np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    ours = model(kj)
    ours.compile("adam", "mse")
    history = ours.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert len(ours.trainable_weights) == 2  # the Dense kernel and bias only
    path = str(tmp_path / "ours.keras")
    ours.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[1].trainable is False
    _close(loaded.predict(x, verbose=0), ours.predict(x, verbose=0))

    theirs = model(keras)
    k_path = str(tmp_path / "theirs.keras")
    theirs.save(k_path)
    back = kj.saving.load_model(k_path)
    assert type(back.layers[1]) is kj.layers.STFTSpectrogram
    _close(back.predict(x, verbose=0), theirs.predict(x, verbose=0))


def test_stft_spectrogram_trainable_kernels_get_gradients():
    inputs = kj.Input((128, 1))
    layer = kj.layers.STFTSpectrogram(frame_length=16, mode="log")
    model = kj.Model(inputs, kj.layers.Dense(1)(kj.layers.Flatten()(layer(inputs))))
    before = [w.numpy().copy() for w in layer.weights]
    model.compile(kj.optimizers.SGD(0.01), "mse")
    model.fit(_audio((4, 128, 1)), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(before, layer.weights, strict=True))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(frame_length=64, frame_step=65), ValueError,
     r"`frame_step` should be a positive integer not greater than `frame_length`\. "
     r"Received frame_step=65, frame_length=64"),
    (dict(frame_length=64, frame_step=0), ValueError, "Received frame_step=0"),
    (dict(frame_length=64, fft_length=32), ValueError,
     r"`fft_length` should be not less than `frame_length`\. "
     r"Received fft_length=32, frame_length=64"),
    (dict(mode="power"), ValueError,
     r"Output mode is invalid, it must be one of log, magnitude, psd, real, imag, angle, "
     r"stft\. Received: mode=power"),
    (dict(scaling="energy"), ValueError,
     r"Scaling is invalid, it must be `None`, 'density' or 'spectrum'\. "
     r"Received scaling=energy"),
    (dict(padding="causal"), ValueError,
     r"Padding is invalid, it should be 'valid', 'same'\. Received: padding=causal"),
])
def test_stft_spectrogram_bad_arguments_raise_keras_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        kj.layers.STFTSpectrogram(**kwargs)
    with pytest.raises(error, match=message):
        _keras().layers.STFTSpectrogram(**kwargs)


def test_stft_spectrogram_window_fft_warning_and_input_checks():
    with pytest.raises(ValueError):
        kj.layers.STFTSpectrogram(window="no_such_window")
    with pytest.warns(UserWarning, match=r"`fft_length` is recommended to be a power of two\. "
                                         r"Received fft_length=300"):
        kj.layers.STFTSpectrogram(frame_length=256, fft_length=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kj.layers.STFTSpectrogram(frame_length=256, fft_length=512)
    layer = kj.layers.STFTSpectrogram(frame_length=16)
    with pytest.raises(TypeError, match=r"Invalid input type\. Expected `float16`, `float32` "
                                        r"or `float64`\. Received: input type=int32"):
        layer(np.ones((1, 64, 1), "int32"))
    with pytest.raises(ValueError, match="ndim=3"):
        kj.layers.STFTSpectrogram(frame_length=16)(np.ones((64, 1), "float32"))
