"""Audio preprocessing layers: `MelSpectrogram` and `STFTSpectrogram`.

Both are pure jax.numpy and run inside the compiled step. `MelSpectrogram` has no weights
(STFT by FFT, then a triangular HTK mel filterbank); `STFTSpectrogram` computes the STFT as
a strided 1-D convolution whose kernels (`real_kernel`, `imag_kernel`, shape
`(frame_length, 1, fft_length // 2 + 1)`) are layer weights, so they can be fine-tuned.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config as _config
from keras_on_jax.backend import dtypes
from keras_on_jax.initializers.constant_initializers import STFT, _get_window
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer
from keras_on_jax.ops import math as _ops_math
from keras_on_jax.ops import nn as _ops_nn

# HTK mel scale: mel(f) = 1127 * ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(frequencies_hertz):
    return _MEL_HIGH_FREQUENCY_Q * jnp.log(1.0 + frequencies_hertz / _MEL_BREAK_FREQUENCY_HERTZ)


def _linear_to_mel(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz,
                   upper_edge_hertz, dtype):
    sampling_rate = jnp.asarray(sampling_rate).astype(dtype)
    lower = jnp.asarray(lower_edge_hertz, dtype)
    upper = jnp.asarray(upper_edge_hertz, dtype)
    zero = jnp.asarray(0.0, dtype)
    nyquist = sampling_rate / 2.0
    # HTK excludes the DC bin.
    linear_frequencies = jnp.linspace(zero, nyquist, num_spectrogram_bins)[1:]
    bins_mel = jnp.expand_dims(_hertz_to_mel(linear_frequencies), 1)
    # num_mel_bins + 2 edges: band i is (edges[i], edges[i + 1], edges[i + 2]).
    edges = jnp.linspace(_hertz_to_mel(lower), _hertz_to_mel(upper), num_mel_bins + 2)
    lower_mel = jnp.reshape(edges[:-2], (1, num_mel_bins))
    center_mel = jnp.reshape(edges[1:-1], (1, num_mel_bins))
    upper_mel = jnp.reshape(edges[2:], (1, num_mel_bins))
    lower_slopes = (bins_mel - lower_mel) / (center_mel - lower_mel)
    upper_slopes = (upper_mel - bins_mel) / (upper_mel - center_mel)
    weights = jnp.maximum(zero, jnp.minimum(lower_slopes, upper_slopes))
    return jnp.pad(weights, [[1, 0], [0, 0]])


def _mel_spectrogram(x, params):
    (sequence_length, sequence_stride, fft_length, window, mag_exp, num_mel_bins,
     sampling_rate, min_freq, max_freq, power_to_db, min_power, ref_power, top_db) = params
    if isinstance(window, tuple):
        window = jnp.asarray(window, x.dtype)
    real, imag = _ops_math.stft(
        x,
        sequence_length=sequence_length,
        sequence_stride=sequence_stride,
        fft_length=fft_length,
        window=window,
        center=True,
    )
    spec = jnp.power(jnp.sqrt(jnp.square(real) + jnp.square(imag)), mag_exp)
    matrix = _linear_to_mel(num_mel_bins, spec.shape[-1], sampling_rate, min_freq, max_freq,
                            "float32")
    out = jnp.tensordot(spec, matrix, axes=1)
    if power_to_db:
        log_spec = 10.0 * jnp.log10(jnp.maximum(out, min_power))
        ref = jnp.abs(jnp.asarray(ref_power))
        log_spec = log_spec - 10.0 * jnp.log10(jnp.maximum(ref, min_power))
        # The max is over the whole tensor (batch included), as in Keras.
        out = jnp.maximum(log_spec, jnp.max(log_spec) - top_db)
    # (..., time, mel) -> (..., num_mel_bins, time)
    return jnp.swapaxes(out, -1, -2)


# One compiled program per configuration and shape instead of one per eager op; inlined
# when traced inside a compiled step.
_jitted_mel_spectrogram = jax.jit(_mel_spectrogram, static_argnums=(1,))


class MelSpectrogram(Layer):
    """A preprocessing layer to convert raw audio signals to Mel spectrograms.

    Input: a 1D (unbatched) or 2D (batched) float tensor `(..., samples)`. Output:
    `(..., num_mel_bins, time)`, the STFT power (`mag_exp`) warped to the mel scale and,
    with `power_to_db=True`, converted to decibels (clipped at `max - top_db`, the max
    being taken over the whole input tensor, as in Keras).

    Args:
        fft_length: size of the FFT window.
        sequence_stride: number of samples between successive STFT columns.
        sequence_length: size of the window applied to each frame; defaults to
            `fft_length`.
        window: `"hann"`, `"hamming"`, a tensor of length `sequence_length`, or `None`.
        sampling_rate: sample rate of the input signal.
        num_mel_bins: number of mel bins to generate.
        min_freq: lowest frequency of the mel bins.
        max_freq: highest frequency of the mel bins; defaults to `sampling_rate / 2`.
        power_to_db: whether to convert the power spectrogram to decibels.
        top_db: minimum negative cut-off `max(10 * log10(S)) - top_db`.
        mag_exp: exponent of the magnitude spectrogram (1 magnitude, 2 power).
        min_power: minimum value for the power and `ref_power`.
        ref_power: the power is scaled relative to it: `10 * log10(S / ref_power)`.
    """

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to  "
                f" `sequence_length`. Received: `sequence_length`="
                f"{self.sequence_length}, `fft_length`={self.fft_length}."
            )
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def call(self, inputs):
        # The STFT supports only float32 / float64.
        compute = self.compute_dtype
        dtype = compute if compute in ("float32", "float64") else "float32"
        x = jnp.asarray(inputs, dtype=dtype)
        window = self.window
        if window is not None and not isinstance(window, str):
            window = tuple(np.asarray(window).tolist())  # hashable: a static jit argument
        params = (
            self.sequence_length, self.sequence_stride, self.fft_length, window,
            self.mag_exp, self.num_mel_bins, self.sampling_rate, self.min_freq,
            self.max_freq, self.power_to_db, self.min_power, self.ref_power, self.top_db,
        )
        try:
            hash(params)
        except TypeError:  # e.g. an array `ref_power`: run op by op
            out = _mel_spectrogram(x, params)
        else:
            out = _jitted_mel_spectrogram(x, params)
        return out.astype(compute)

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins=20,
        num_spectrogram_bins=129,
        sampling_rate=8000,
        lower_edge_hertz=125.0,
        upper_edge_hertz=3800.0,
        dtype="float32",
    ):
        """A `[num_spectrogram_bins, num_mel_bins]` matrix warping linear bins to mel (HTK).

        Each triangular filter peaks at 1.0; the DC bin's row is zero.
        """
        return _linear_to_mel(num_mel_bins, num_spectrogram_bins, sampling_rate,
                              lower_edge_hertz, upper_edge_hertz, dtype)

    def compute_output_shape(self, input_shape):
        def frames(n):
            return None if n is None else (n + self.sequence_stride + 1) // self.sequence_stride

        if len(input_shape) == 1:
            return (self.num_mel_bins, frames(input_shape[0]))
        return (input_shape[0], self.num_mel_bins, frames(input_shape[1]))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length,
                "window": self.window,
                "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq,
                "max_freq": self.max_freq,
                "power_to_db": self.power_to_db,
                "top_db": self.top_db,
                "mag_exp": self.mag_exp,
                "min_power": self.min_power,
                "ref_power": self.ref_power,
            }
        )
        return config


_STFT_MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


class STFTSpectrogram(Layer):
    """Layer computing the Short-Time Fourier Transform (STFT) of a 1D signal by convolution.

    The STFT kernels are weights (`real_kernel`, `imag_kernel`) initialized by
    `keras.initializers.STFT`; they are trainable unless the layer is built with
    `trainable=False`.

    Args:
        mode: `"log"` (default), `"magnitude"`, `"psd"`, `"real"`, `"imag"`, `"angle"` or
            `"stft"` (real and imaginary parts concatenated on the frequency axis).
        frame_length: length of each frame (window), in samples.
        frame_step: hop between frames; defaults to `frame_length // 2`.
        fft_length: number of FFT points (>= `frame_length`); defaults to the smallest
            power of two >= `frame_length`.
        window: `"hann"` (default), `"hamming"`, another scipy window name, an array of
            length `frame_length`, or `None`.
        periodic: whether the window is periodic.
        scaling: `"density"` (default), `"spectrum"` or `None`.
        padding: `"valid"` (default) or `"same"`.
        expand_dims: output 4D spectrograms (an image per input channel).
        data_format: `"channels_last"` `(batch, time, channels)` or `"channels_first"`.
    """

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than "
                f"`frame_length`. Received frame_step={frame_step}, "
                f"frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. "
                f"Received fft_length={fft_length}, frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(
                "`fft_length` is recommended to be a power of two. "
                f"Received fft_length={fft_length}",
                stacklevel=2,
            )
        if mode not in _STFT_MODES:
            raise ValueError(
                "Output mode is invalid, it must be one of "
                f"{', '.join(_STFT_MODES)}. Received: mode={mode}"
            )
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' "
                f"or 'spectrum'. Received scaling={scaling}"
            )
        if padding not in ["valid", "same"]:
            raise ValueError(
                "Padding is invalid, it should be 'valid', 'same'. "
                f"Received: padding={padding}"
            )
        if isinstance(window, str):
            _get_window(window, 1, periodic)  # raises for an unknown window
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or self.frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or (2 ** int(math.ceil(math.log2(frame_length))))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                name="real_kernel",
                shape=shape,
                initializer=STFT("real", self.window, self.scaling, self.periodic),
            )
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                name="imag_kernel",
                shape=shape,
                initializer=STFT("imag", self.window, self.scaling, self.periodic),
            )
        self.built = True

    def _apply_conv(self, x, kernel):
        # Every input channel is convolved separately: fold channels into the batch.
        if self.data_format == "channels_last":
            _, time_seq, channels = x.shape
            x = jnp.reshape(jnp.transpose(x, (0, 2, 1)), (-1, time_seq, 1))
        else:
            _, channels, time_seq = x.shape
            x = jnp.reshape(x, (-1, 1, time_seq))
        out = _ops_nn.conv(
            x,
            kernel.value.astype(x.dtype),
            strides=self._frame_step,
            padding=self.padding,
            data_format=self.data_format,
        )
        if self.data_format == "channels_last":
            out = jnp.transpose(out, (0, 2, 1))
        _, freq_channels, time_out = out.shape
        return jnp.reshape(out, (-1, channels, freq_channels, time_out))

    def _adjust_shapes(self, x):
        # x: (batch, channels, freq, time)
        _, channels, freq_channels, time_seq = x.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return jnp.transpose(x, (0, 3, 2, 1))
            x = jnp.reshape(x, (-1, channels * freq_channels, time_seq))
            return jnp.transpose(x, (0, 2, 1))
        if self.expand_dims:
            return jnp.transpose(x, (0, 1, 3, 2))
        return jnp.reshape(x, (-1, channels * freq_channels, time_seq))

    def call(self, inputs):
        x = jnp.asarray(inputs)
        if dtypes.standardize_dtype(x.dtype) not in {"float16", "float32", "float64"}:
            raise TypeError(
                "Invalid input type. Expected `float16`, `float32` or "
                f"`float64`. Received: input type={x.dtype}"
            )
        real = imag = None
        if self.mode != "imag":
            real = self._apply_conv(x, self.real_kernel)
        if self.mode != "real":
            imag = self._apply_conv(x, self.imag_kernel)
        if self.mode == "real":
            return self._adjust_shapes(real)
        if self.mode == "imag":
            return self._adjust_shapes(imag)
        if self.mode == "angle":
            return self._adjust_shapes(jnp.arctan2(imag, real))
        if self.mode == "stft":
            return self._adjust_shapes(jnp.concatenate([real, imag], axis=2))
        power = jnp.square(real) + jnp.square(imag)
        if self.mode == "psd":
            # One-sided PSD: every bin but DC and Nyquist counts twice.
            return self._adjust_shapes(
                power + jnp.pad(power[:, :, 1:-1, :], [[0, 0], [0, 0], [1, 1], [0, 0]])
            )
        eps = _config.epsilon()
        linear = self._adjust_shapes(jnp.sqrt(jnp.maximum(power, eps)))
        if self.mode == "magnitude":
            return linear
        return jnp.log(jnp.maximum(linear, eps))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            batch, length, channels = input_shape
        else:
            batch, channels, length = input_shape
        freq_channels = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq_channels *= 2
        if length is None:
            time_seq = None
        elif self.padding == "valid":
            time_seq = (length - self.frame_length) // self._frame_step + 1
        else:
            time_seq = (length + self._frame_step - 1) // self._frame_step
        if self.expand_dims:
            if self.data_format == "channels_last":
                return (batch, time_seq, freq_channels, channels)
            return (batch, channels, time_seq, freq_channels)
        features = None if channels is None else freq_channels * channels
        if self.data_format == "channels_last":
            return (batch, time_seq, features)
        return (batch, features, time_seq)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "frame_length": self.frame_length,
                "frame_step": self.frame_step,
                "fft_length": self.fft_length,
                "window": self.window,
                "periodic": self.periodic,
                "scaling": self.scaling,
                "padding": self.padding,
                "data_format": self.data_format,
                "expand_dims": self.expand_dims,
            }
        )
        return config
