"""More image augmentation layers (Keras 3's `image_preprocessing` family), in jax.numpy.

Color: `AutoContrast`, `Equalization`, `Solarization`, `RandomInvert`, `RandomGrayscale`,
`RandomPosterization`, `RandomColorDegeneration`, `RandomSaturation`, `RandomHue`,
`RandomSharpness`, `RandomColorJitter`, `RandomGaussianBlur`. Geometry and mixing:
`RandomShear`, `RandomPerspective`, `RandomErasing`, `MixUp`, `CutMix`. Composition: `RandAugment`, `AugMix`,
`Pipeline`. (`RandomElasticTransform` and `ContrastLimitedAdaptiveHistogramEqualization`: in
image_augmentation_extra.py.)

They follow Keras's structure: `get_random_transformation(data, training, seed)` draws the
parameters (a dict with Keras's keys, so Keras's own draws can be replayed here) and
`transform_images(images, transformation, training)` applies them to a batch; a single
image (rank 3) is processed as a batch of one. Inputs may also be a dict with `"images"`,
`"labels"` and `"segmentation_masks"` (MixUp and CutMix mix the labels too); bounding
boxes are not supported. The random draws come from the layer's `SeedGenerator`, so they
advance inside the compiled step; they are not Keras's bit-for-bit (different generators).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.backend import random as krandom
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.preprocessing.image import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
    _BaseImageLayer,
    _check_fill_interp,
    _check_rank,
    affine_transform,
)
from keras_on_jax.ops import image as ops_image
from keras_on_jax.serialization import deserialize_keras_object, serialize_keras_object

_VALUE_RANGE_ERROR = "The `value_range` argument should be a list of two numbers. "


# ---- shared helpers --------------------------------------------------------------------------
def _sorted_value_range(layer, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(f"{layer}: {_VALUE_RANGE_ERROR}Received: value_range={value_range}")
    return sorted(value_range)


def _transform_value_range(images, original_range, target_range, dtype="float32"):
    """Keras's `BaseImagePreprocessingLayer._transform_value_range`."""
    if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
        return images
    images = jnp.asarray(images).astype(dtype)
    omin, omax = (jnp.asarray(v).astype(dtype) for v in original_range)
    tmin, tmax = (jnp.asarray(v).astype(dtype) for v in target_range)
    images = (images - omin) / (omax - omin)
    return images * (tmax - tmin) + tmin


def _batch_size(images):
    return 1 if jnp.ndim(images) == 3 else jnp.shape(images)[0]


def _keys(layer, seed, n):
    """`n` independent keys from `seed` (None: the layer's generator; a SeedGenerator,
    an int or a key)."""
    key = krandom.draw_seed(layer.generator if seed is None else seed)
    return jax.random.split(key, n)


def _uniform(key, shape, minval=0.0, maxval=1.0, dtype="float32"):
    return jax.random.uniform(key, tuple(shape), dtype=dtype, minval=minval, maxval=maxval)


def _range_factor(layer, factor, name, bounds=(0, 1), symmetric=False, pair_bounds=None):
    """A number in `bounds` or a pair in `pair_bounds` (default `bounds`), as
    `(lower, upper)`; a number `f` gives `(0, f)` or, with `symmetric`, `(-f, f)`."""
    msg = (f"{layer}: the `{name}` argument should be a number (or a list of two numbers) "
           f"in the range [{bounds[0]}, {bounds[1]}]. Received: {name}={factor}")

    def check(v, b=bounds):
        if v > b[1] or v < b[0]:
            raise ValueError(msg)

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        check(factor[0], pair_bounds or bounds)
        check(factor[1], pair_bounds or bounds)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        check(factor)
        return (-abs(factor), abs(factor)) if symmetric else (0, factor)
    raise ValueError(msg)


def _clipped_factor(layer, factor, name, bounds=(0, 1)):
    """Keras's `_set_factor_by_name`: a number `f` gives `(max(-f, low), f)`."""
    msg = (f"{layer}: the `{name}` argument should be a number (or a list of two numbers) "
           f"in the range [{bounds[0]}, {bounds[1]}]. Received: {name}={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(msg)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(msg)
        factor = abs(factor)
        return (max(-factor, bounds[0]), factor)
    raise ValueError(msg)


class _AugmentationLayer(_BaseImageLayer):
    """Base: Keras's `BaseImagePreprocessingLayer.call` (images or a dict with images,
    labels and segmentation masks; a single image is transformed as a batch of one)."""

    _USE_BASE_FACTOR = False

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def _apply(self, fn, x, transformation, training, batched):
        if not batched:
            x = x[None]
        out = fn(x, transformation, training=training)
        return out if batched else out[0]

    def _draw(self, data, images, training):
        if not training:
            return None  # every transform here is the identity (or deterministic) then
        return self.get_random_transformation(data, training=training)

    def call(self, data, training=True):
        if isinstance(data, dict):
            if "bounding_boxes" in data:
                raise ValueError(
                    f"{type(self).__name__}: inputs with a 'bounding_boxes' key are not "
                    "supported by keras_on_jax (no `bounding_box_format` support). Received "
                    f"keys: {sorted(data)}"
                )
            if "images" not in data:
                raise ValueError(
                    f"{type(self).__name__}: a dict input must have an 'images' key. "
                    f"Received keys: {sorted(data)}"
                )
            out = dict(data)
            images = jnp.asarray(data["images"])
            _check_rank(images, self.name)
            batched = images.ndim == 4
            transformation = self._draw(out, images, training)
            out["images"] = self._apply(self.transform_images, images, transformation,
                                        training, batched)
            if "labels" in data:
                out["labels"] = self._apply(self.transform_labels, jnp.asarray(data["labels"]),
                                            transformation, training, batched)
            if "segmentation_masks" in data:
                out["segmentation_masks"] = self._apply(
                    self.transform_segmentation_masks, jnp.asarray(data["segmentation_masks"]),
                    transformation, training, batched)
            return out
        data = jnp.asarray(data)
        _check_rank(data, self.name)
        transformation = self._draw(data, data, training)
        return self._apply(self.transform_images, data, transformation, training,
                           data.ndim == 4)

    def compute_output_shape(self, input_shape):
        return input_shape

    # The constructor arguments `get_config` reports, in Keras's order (each an attribute).
    _CONFIG_KEYS = ()

    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self._CONFIG_KEYS})
        return config

    def _images_of(self, data):
        return data["images"] if isinstance(data, dict) else data


def _cast_back(results, images):
    """Keras's tail of the color layers: float results keep their dtype; integer images
    get rounded, saturated values."""
    if results.dtype == images.dtype:
        return results
    if jnp.issubdtype(images.dtype, jnp.integer):
        results = jnp.round(results)
        info = jnp.iinfo(images.dtype)
        results = jnp.clip(results, info.min, info.max)
    return results.astype(images.dtype)


# ---- deterministic color layers --------------------------------------------------------------
class AutoContrast(_AugmentationLayer):
    """Stretches each image's values over the whole `value_range`
    (`keras.layers.AutoContrast`); active in training and inference.

    Args:
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = _sorted_value_range("AutoContrast", value_range)

    def transform_images(self, images, transformation=None, training=True):
        original = jnp.asarray(images)
        images = _transform_value_range(original, self.value_range, (0, 255),
                                        dtype=self.compute_dtype)
        images = jnp.asarray(images).astype(self.compute_dtype)
        low = jnp.min(images, axis=(1, 2), keepdims=True)
        high = jnp.max(images, axis=(1, 2), keepdims=True)
        scale = 255.0 / (high - low)
        offset = -low * scale
        results = jnp.clip(images * scale + offset, 0.0, 255.0)
        results = _transform_value_range(results, (0, 255), self.value_range,
                                         dtype=self.compute_dtype)
        results = jnp.where(jnp.isnan(results), original, results)
        return _cast_back(results, images)

    _CONFIG_KEYS = ("data_format", "value_range")


class Equalization(_AugmentationLayer):
    """Histogram equalization of each channel (`keras.layers.Equalization`).

    As in Keras, the histogram of a channel is taken over the whole batch, and the layer
    returns its inputs unchanged when `training=False`.

    Args:
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        bins: number of histogram bins (default 256).
        data_format: `"channels_last"` or `"channels_first"`.
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = _sorted_value_range("Equalization", value_range)

    @staticmethod
    def _scale(values, source, target):
        scale = (target[1] - target[0]) / (source[1] - source[0])
        offset = target[0] - source[0] * scale
        return values * scale + offset

    def _equalize_channel(self, channel):
        channel = self._scale(channel, self.value_range, (0, 255))
        values = channel.astype("float32")
        scaled = (values - 0.0) * (self.bins - 1) / (255.0 - 0.0)
        idx = jnp.clip(scaled.astype("int32"), 0, self.bins - 1).reshape(-1)
        hist = jnp.bincount(idx, length=self.bins).astype("int32")
        nonzero = jnp.count_nonzero(hist)
        cdf = jnp.cumsum(hist)
        cdf_min = jnp.take(cdf, jnp.argmax(cdf > 0))
        denom = cdf[-1] - cdf_min
        denom = jnp.where(denom == 0, jnp.ones_like(denom), denom)
        lut = jnp.clip(jnp.round((cdf - cdf_min) * 255 / denom), 0, 255)
        indices = jnp.clip(channel / 255.0 * (self.bins - 1), 0, self.bins - 1).astype("int32")
        equalized = jnp.where(nonzero <= 1, channel, jnp.take(lut, indices))
        return self._scale(equalized, (0, 255), self.value_range)

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = jnp.asarray(images).astype(self.compute_dtype)
        axis = -1 if self.data_format == "channels_last" else -3
        channels = [self._equalize_channel(jnp.take(images, i, axis=axis))
                    for i in range(images.shape[axis])]
        return jnp.stack(channels, axis=axis).astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "bins", "value_range")


# ---- random color layers ---------------------------------------------------------------------
class Solarization(_AugmentationLayer):
    """Inverts pixels above a random threshold after adding a random offset
    (`keras.layers.Solarization`): `255 - x` where `x + addition >= threshold`, on the
    `(0, 255)` scale of `value_range`.

    Args:
        addition_factor: number or `(lower, upper)` in `[0, 1]`; a number `f` means
            `(0, f)`. As in Keras, the addition is drawn from
            `[lower, upper * 255]`.
        threshold_factor: same, for the threshold.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        seed: integer seed.
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._make_generator(seed)
        self.addition_factor = _range_factor("Solarization", addition_factor, "addition_factor")
        self.threshold_factor = _range_factor("Solarization", threshold_factor,
                                              "threshold_factor")
        self.value_range = _sorted_value_range("Solarization", value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (jnp.shape(images)[0], 1, 1, 1) if jnp.ndim(images) == 4 else (1, 1, 1)
        k1, k2 = _keys(self, seed, 2)
        return {
            "additions": _uniform(k1, shape, self.addition_factor[0],
                                  self.addition_factor[1] * 255, self.compute_dtype),
            "thresholds": _uniform(k2, shape, self.threshold_factor[0],
                                   self.threshold_factor[1] * 255, self.compute_dtype),
        }

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training or transformation is None:
            return images
        x = _transform_value_range(images, self.value_range, (0, 255), self.compute_dtype)
        results = jnp.clip(x + transformation["additions"], 0, 255)
        results = jnp.where(results < transformation["thresholds"], results, 255 - results)
        results = _transform_value_range(results, (0, 255), self.value_range, self.compute_dtype)
        return _cast_back(results, images)

    _CONFIG_KEYS = ("data_format", "value_range", "addition_factor", "threshold_factor",
                    "seed")


class RandomInvert(_AugmentationLayer):
    """Inverts images (`value_range[1] - x`) with a random probability
    (`keras.layers.RandomInvert`).

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`: each image is inverted with a
            probability drawn from that range (default `1.0`, i.e. `(0, 1)`).
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        seed: integer seed.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = _batch_size(self._images_of(data))
        k1, k2 = _keys(self, seed, 2)
        probability = _uniform(k1, (n,), self.factor[0], self.factor[1])
        threshold = _uniform(k2, (n,))
        return {"apply_inversion": threshold < probability}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = jnp.asarray(images).astype(self.compute_dtype)
        apply = transformation["apply_inversion"][:, None, None, None]
        return jnp.where(apply, self.value_range[1] - images, images)

    _CONFIG_KEYS = ("data_format", "factor", "value_range", "seed")


class RandomGrayscale(_AugmentationLayer):
    """Converts each image to grayscale with probability `factor`
    (`keras.layers.RandomGrayscale`); the gray value is repeated over the channels.

    Args:
        factor: probability in `[0, 1]` (default 0.5).
        data_format: `"channels_last"` or `"channels_first"`.
        seed: integer seed.
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not 0 <= factor <= 1:
            raise ValueError(
                f"RandomGrayscale: `factor` should be a number between 0 and 1. "
                f"Received: factor={factor}")
        self.factor = factor
        self._make_generator(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        n = _batch_size(self._images_of(images))
        (key,) = _keys(self, seed, 1)
        values = _uniform(key, (n,))
        return (values < self.factor)[:, None, None, None]

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = jnp.asarray(images)
        should_apply = (transformation if transformation is not None
                        else self.get_random_transformation(images))
        gray = ops_image.rgb_to_grayscale(images, data_format=self.data_format)
        return jnp.where(should_apply, gray, images)

    _CONFIG_KEYS = ("data_format", "factor")


class RandomPosterization(_AugmentationLayer):
    """Keeps only the `b` most significant bits of each 8-bit value, `b` drawn from
    `factor` (`keras.layers.RandomPosterization`).

    Args:
        factor: integer or `(lower, upper)` in `[1, 8]`; an integer `f` means `(1, f)`.
            As in Keras, `b` is drawn from `[lower, upper)` when they differ.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        data_format, seed: as the other layers.
    """

    _FACTOR_BOUNDS = (1, 8)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = _sorted_value_range("RandomPosterization", value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = _batch_size(self._images_of(data))
        if self.factor[0] != self.factor[1]:
            (key,) = _keys(self, seed, 1)
            factor = jax.random.randint(key, (n,), self.factor[0], self.factor[1],
                                        dtype="int32").astype("uint8")
        else:
            factor = jnp.ones((n,), "uint8") * jnp.uint8(self.factor[0])
        return {"shift_factor": jnp.uint8(8) - factor}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        shift = jnp.asarray(transformation["shift_factor"]).astype("uint8")
        shift = shift.reshape(shift.shape + (1, 1, 1))
        x = _transform_value_range(images, self.value_range, (0, 255), self.compute_dtype)
        x = jnp.asarray(x).astype("uint8")
        x = jnp.left_shift(jnp.right_shift(x, shift), shift).astype(self.compute_dtype)
        return _transform_value_range(x, (0, 255), self.value_range, self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "factor", "value_range", "seed")


class RandomColorDegeneration(_AugmentationLayer):
    """Blends images towards their grayscale version by a random factor
    (`keras.layers.RandomColorDegeneration`).

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`; 0 keeps the image, 1 gives
            grayscale.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        data_format, seed: as the other layers.
    """

    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = _sorted_value_range("RandomColorDegeneration", value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = _batch_size(self._images_of(data))
        (key,) = _keys(self, seed, 1)
        return {"factor": _uniform(key, (n, 1, 1, 1), self.factor[0], self.factor[1])}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = jnp.asarray(images).astype(self.compute_dtype)
        factor = jnp.asarray(transformation["factor"]).astype(self.compute_dtype)
        gray = ops_image.rgb_to_grayscale(images, data_format=self.data_format)
        images = images + factor * (gray - images)
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(
                "RandomColorDegeneration: invalid images rank: expected rank 3 (single image) "
                f"or rank 4 (batch of images). Received: input_shape={input_shape}")
        channels = input_shape[-1 if self.data_format == "channels_last" else -3]
        if channels is not None and channels != 3:
            raise ValueError("RandomColorDegeneration: input images must have 3 channels, "
                             f"but received images with {channels} channels.")
        return input_shape

    _CONFIG_KEYS = ("data_format", "factor", "value_range", "seed")


class RandomSaturation(_AugmentationLayer):
    """Scales the HSV saturation by a random factor (`keras.layers.RandomSaturation`).

    A value `f` drawn from `factor` becomes the multiplier `f / (1 - f)`: 0.5 keeps the
    image, 0 gives grayscale, 1 full saturation.

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        data_format, seed: as the other layers.
    """

    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = _sorted_value_range("RandomSaturation", value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = _batch_size(self._images_of(data))
        (key,) = _keys(self, seed, 1)
        f = _uniform(key, (n,), self.factor[0], self.factor[1])
        return {"factor": f / (1 - f + config.epsilon())}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        factors = jnp.asarray(transformation["factor"]).astype(self.compute_dtype)
        factors = factors.reshape(factors.shape + (1, 1))
        hsv = ops_image.rgb_to_hsv(images, data_format=self.data_format)
        axis = -1 if self.data_format == "channels_last" else 1
        h, s, v = (jnp.take(hsv, i, axis=axis) for i in range(3))
        s = jnp.clip(s * factors, self.value_range[0], self.value_range[1])
        return ops_image.hsv_to_rgb(jnp.stack([h, s, v], axis=axis),
                                    data_format=self.data_format)

    _CONFIG_KEYS = ("data_format", "factor", "value_range", "seed")


class RandomHue(_AugmentationLayer):
    """Shifts the HSV hue by a random amount (`keras.layers.RandomHue`).

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`; the hue moves by up to half a
            turn times the drawn value, in a random direction.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        data_format, seed: as the other layers.
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = _batch_size(self._images_of(data))
        k1, k2 = _keys(self, seed, 2)
        invert = jnp.where(_uniform(k1, (n,)) > 0.5, -1.0, 1.0)
        factor = _uniform(k2, (n,), self.factor[0], self.factor[1])
        return {"factor": invert * factor * 0.5}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = jnp.asarray(images).astype(self.compute_dtype)
        images = _transform_value_range(images, self.value_range, (0, 1))
        adjust = jnp.asarray(transformation["factor"]).astype(images.dtype)[:, None, None]
        hsv = ops_image.rgb_to_hsv(images, data_format=self.data_format)
        axis = -1 if self.data_format == "channels_last" else 1
        h, s, v = (jnp.take(hsv, i, axis=axis) for i in range(3))
        h = h + adjust
        h = jnp.where(h > 1.0, h - 1.0, h)
        h = jnp.where(h < 0.0, h + 1.0, h)
        images = ops_image.hsv_to_rgb(jnp.stack([h, s, v], axis=axis),
                                      data_format=self.data_format)
        images = _transform_value_range(jnp.clip(images, 0, 1), (0, 1), self.value_range)
        return images.astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "factor", "value_range", "seed")


class RandomSharpness(_AugmentationLayer):
    """Sharpens or blurs images by a random factor (`keras.layers.RandomSharpness`):
    a blend with a 3x3 smoothing of the image; 0.5 keeps the image.

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        data_format, seed: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = _sorted_value_range("RandomSharpness", value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = _batch_size(self._images_of(data))
        (key,) = _keys(self, seed, 1)
        return {"factor": _uniform(key, (n,), self.factor[0], self.factor[1])}

    def transform_images(self, images, transformation=None, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training:
            return images
        if self.data_format == "channels_first":
            images = jnp.swapaxes(images, -3, -1)
        factor = (jnp.asarray(transformation["factor"]) * 2).astype(self.compute_dtype)
        factor = factor.reshape(-1, 1, 1, 1)
        c = images.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.asarray([[a, a, a], [a, b, a], [a, a, a]], self.compute_dtype)
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, c))  # HWIO, one filter a channel
        smoothed = jax.lax.conv_general_dilated(
            images, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=c).astype(self.compute_dtype)
        images = images + (1.0 - factor) * (smoothed - images)
        images = jnp.clip(images, self.value_range[0], self.value_range[1])
        if self.data_format == "channels_first":
            images = jnp.swapaxes(images, -3, -1)
        return images

    _CONFIG_KEYS = ("data_format", "factor", "value_range", "seed")


class RandomColorJitter(_AugmentationLayer):
    """Random brightness, contrast, saturation and hue, in that order
    (`keras.layers.RandomColorJitter`); each is skipped when its factor is `None`.

    Args:
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the `factor`
            of `RandomBrightness`, `RandomContrast`, `RandomSaturation`, `RandomHue`.
        seed, data_format: as the other layers.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self._make_generator(seed)
        self.random_brightness = self.random_contrast = None
        self.random_saturation = self.random_hue = None
        if brightness_factor is not None:
            self.random_brightness = RandomBrightness(factor=brightness_factor,
                                                      value_range=value_range, seed=seed)
        if contrast_factor is not None:
            self.random_contrast = RandomContrast(factor=contrast_factor,
                                                  value_range=value_range, seed=seed)
        if saturation_factor is not None:
            self.random_saturation = RandomSaturation(factor=saturation_factor,
                                                      value_range=value_range, seed=seed)
        if hue_factor is not None:
            self.random_hue = RandomHue(factor=hue_factor, value_range=value_range, seed=seed)

    def _stages(self):
        return [s for s in (self.random_brightness, self.random_contrast,
                            self.random_saturation, self.random_hue) if s is not None]

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        batched = images if jnp.ndim(images) == 4 else jnp.asarray(images)[None]
        stages = self._stages()
        keys = _keys(self, seed, len(stages)) if stages else []
        return [stage.get_random_transformation(batched, training=True, seed=key)
                for stage, key in zip(stages, keys, strict=True)]

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images)
        if not training:
            return images
        images = images.astype(self.compute_dtype)
        if transformation is None:
            transformation = self.get_random_transformation(images)
        for stage, t in zip(self._stages(), transformation, strict=True):
            images = stage.transform_images(images, t)
        return images.astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "value_range", "brightness_factor", "contrast_factor",
                    "saturation_factor", "hue_factor", "seed")


class RandomGaussianBlur(_AugmentationLayer):
    """Blurs images with a Gaussian kernel with a random probability
    (`keras.layers.RandomGaussianBlur`).

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`: each image is blurred with a
            probability drawn from that range (default `1.0`).
        kernel_size: odd integer or pair of odd integers (default 3).
        sigma: number or `(lower, upper)` in `[0, 1]`; the standard deviations (for x
            and y) are drawn from it (default `1.0`).
        value_range: `(low, high)`; outputs are clipped to it (default `(0, 255)`).
        data_format, seed: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.kernel_size = self._set_kernel_size(kernel_size)
        self.sigma = _clipped_factor("RandomGaussianBlur", sigma, "sigma")
        self.value_range = value_range
        self._make_generator(seed)

    @staticmethod
    def _set_kernel_size(k):
        msg = f"RandomGaussianBlur: `kernel_size` must be an odd number. Received: kernel_size={k}"
        if isinstance(k, (tuple, list)):
            if len(k) != 2:
                raise ValueError("RandomGaussianBlur: the `kernel_size` argument should be a "
                                 f"number (or a list of two numbers). Received: kernel_size={k}")
            if k[0] % 2 == 0 or k[1] % 2 == 0:
                raise ValueError(msg)
            return tuple(k)
        if isinstance(k, (int, float)) and not isinstance(k, bool):
            if k % 2 == 0:
                raise ValueError(msg)
            return (k, k)
        raise ValueError(msg)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = _batch_size(self._images_of(data))
        k1, k2, k3 = _keys(self, seed, 3)
        probability = _uniform(k1, (n,), self.factor[0], self.factor[1])
        threshold = _uniform(k2, (n,))
        blur = _uniform(k3, (2,), self.sigma[0], self.sigma[1], self.compute_dtype) + 1e-6
        return {"should_apply_blur": threshold < probability, "blur_factor": blur}

    def transform_images(self, images, transformation=None, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training or transformation is None:
            return images
        blurred = ops_image.gaussian_blur(images, kernel_size=tuple(int(k) for k in self.kernel_size),
                                          sigma=transformation["blur_factor"],
                                          data_format=self.data_format)
        apply = transformation["should_apply_blur"][:, None, None, None]
        images = jnp.where(apply, blurred, images)
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "factor", "kernel_size", "sigma", "value_range", "seed")


# ---- geometry and mixing ---------------------------------------------------------------------
class RandomShear(_AugmentationLayer):
    """Randomly shears images along x and/or y (`keras.layers.RandomShear`).

    Args:
        x_factor, y_factor: number or `(lower, upper)` in `[0, 1]`; a number `f` means
            `(-f, f)`. The drawn shear's direction is also flipped at random.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"`, `"nearest"`.
        fill_value: value outside the image with `fill_mode="constant"`.
        data_format, seed: as the other layers.
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        # A pair may hold negative values (Keras rejects them, so its own configs of a
        # number factor, stored as `(-f, f)`, do not load back there).
        self.x_factor = _range_factor("RandomShear", x_factor, "x_factor", symmetric=True,
                                      pair_bounds=(-1, 1))
        self.y_factor = _range_factor("RandomShear", y_factor, "y_factor", symmetric=True,
                                      pair_bounds=(-1, 1))
        _check_fill_interp("RandomShear", fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        n = _batch_size(images)
        k1, k2, k3 = _keys(self, seed, 3)
        dtype = self.compute_dtype
        invert = jnp.where(_uniform(k1, (n, 1), dtype=dtype) > 0.5, -1.0, 1.0).astype(dtype)
        shear_y = _uniform(k2, (n, 1), self.y_factor[0], self.y_factor[1], dtype)
        shear_x = _uniform(k3, (n, 1), self.x_factor[0], self.x_factor[1], dtype)
        return {"shear_factor": jnp.concatenate([shear_x, shear_y], axis=1) * invert,
                "input_shape": tuple(jnp.shape(images))}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        s = jnp.asarray(transformation["shear_factor"])
        n = s.shape[0]
        ones, zeros = jnp.ones((n,), s.dtype), jnp.zeros((n,), s.dtype)
        matrix = jnp.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros, zeros], axis=1)
        return affine_transform(images, matrix, interpolation, self.fill_mode, self.fill_value,
                                self.data_format)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if training:
            return self._transform_images(segmentation_masks, transformation, "nearest")
        return segmentation_masks

    _CONFIG_KEYS = ("x_factor", "y_factor", "fill_mode", "interpolation", "seed",
                    "fill_value", "data_format")


def _box_masks(images_shape, data_format, box_corners, dtype):
    """Boolean masks `(batch, h, w, c)` (or channels first) of the boxes `[x0, x1) x
    [y0, y1)` (Keras's `_generate_batch_mask`)."""
    if data_format == "channels_last":
        h, w, c, c_axis = images_shape[-3], images_shape[-2], images_shape[-1], -1
    else:
        c, h, w, c_axis = images_shape[-3], images_shape[-2], images_shape[-1], -3
    grid_y, grid_x = jnp.meshgrid(jnp.arange(h, dtype=dtype), jnp.arange(w, dtype=dtype),
                                  indexing="ij")
    if data_format == "channels_last":
        grid_y, grid_x = grid_y[None, :, :, None], grid_x[None, :, :, None]
    else:
        grid_y, grid_x = grid_y[None, None], grid_x[None, None]
    x0, x1, y0, y1 = (v[:, None, None, None] for v in box_corners)
    masks = (grid_x >= x0) & (grid_x < x1) & (grid_y >= y0) & (grid_y < y1)
    return jnp.repeat(masks, c, axis=c_axis), (x0, x1, y0, y1), (h, w)


def _crop_bounds(key, batch, length, ratio, dtype):
    crop = (ratio * length).astype(dtype)
    start = _uniform(key, (batch,), 0.0, 1.0, dtype) * (length - crop)
    return start, start + crop


def _hw_of(shape, data_format):
    return (shape[-3], shape[-2]) if data_format == "channels_last" else (shape[-2], shape[-1])


class RandomErasing(_AugmentationLayer):
    """Erases a random rectangle of each image with a random probability
    (`keras.layers.RandomErasing`).

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`: the probability of erasing
            (default `1.0`).
        scale: number or `(lower, upper)` in `[0, 1]`: the rectangle's sides are
            `sqrt(s)` times the image's, `s` drawn from it (default `(0.02, 0.33)`).
        fill_value: a number or 3 numbers; `None` (default) fills with Gaussian noise
            scaled by `value_range[1]`. Clipped to `value_range`.
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        seed, data_format: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = _clipped_factor("RandomErasing", scale, "scale")
        self.fill_value = fill_value
        self.value_range = value_range
        self._make_generator(seed)

    def _get_fill_value(self, images, key):
        shape = tuple(jnp.shape(images))
        fill = self.fill_value
        if fill is None:
            fill = jax.random.normal(key, shape, dtype=self.compute_dtype) * self.value_range[1]
        elif isinstance(fill, (tuple, list)):
            if len(fill) != 3:
                raise ValueError("RandomErasing: the `fill_value` argument should be a number "
                                 f"(or a list of three numbers). Received: fill_value={fill}")
            fill = jnp.full(shape, jnp.asarray(fill, self.compute_dtype), self.compute_dtype)
        elif isinstance(fill, (int, float)) and not isinstance(fill, bool):
            fill = jnp.ones(shape, self.compute_dtype) * fill
        else:
            raise ValueError("RandomErasing: the `fill_value` argument should be a number "
                             f"(or a list of three numbers). Received: fill_value={fill}")
        return jnp.clip(fill, self.value_range[0], self.value_range[1])

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = tuple(jnp.shape(images))
        n = _batch_size(images)
        h, w = _hw_of(shape, self.data_format)
        dtype = self.compute_dtype
        k = _keys(self, seed, 6)
        mix = jnp.sqrt(_uniform(k[0], (n, 2), self.scale[0], self.scale[1], dtype))
        x0, x1 = _crop_bounds(k[1], n, w, mix[:, 0], dtype)
        y0, y1 = _crop_bounds(k[2], n, h, mix[:, 1], dtype)
        masks, _, _ = _box_masks(shape, self.data_format, (x0, x1, y0, y1), dtype)
        probability = _uniform(k[3], (n,), self.factor[0], self.factor[1])
        threshold = _uniform(k[4], (n,))
        return {"apply_erasing": threshold < probability, "batch_masks": masks,
                "fill_value": self._get_fill_value(images, k[5])}

    def transform_images(self, images, transformation=None, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training:
            return images
        erased = jnp.where(transformation["batch_masks"], transformation["fill_value"], images)
        apply = transformation["apply_erasing"][:, None, None, None]
        return jnp.where(apply, erased, images).astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "factor", "scale", "fill_value", "value_range", "seed")


class MixUp(_AugmentationLayer):
    """MixUp (`keras.layers.MixUp`): each image (and label, given a dict input with
    `"labels"`) becomes `w * x + (1 - w) * x[perm]`, `w ~ Beta(alpha, alpha)` and `perm`
    a random permutation of the batch.

    Args:
        alpha: the Beta distribution's parameter (default 0.2).
        data_format, seed: as the other layers.
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.alpha = alpha
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = _batch_size(self._images_of(data))
        k1, k2 = _keys(self, seed, 2)
        permutation = jax.random.permutation(k1, jnp.arange(n))
        weight = jax.random.beta(k2, self.alpha, self.alpha, (n,))
        return {"mix_weight": weight, "permutation_order": permutation}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = jnp.asarray(images).astype(self.compute_dtype)
        w = jnp.asarray(transformation["mix_weight"]).reshape(-1, 1, 1, 1).astype(self.compute_dtype)
        other = jnp.take(images, transformation["permutation_order"], axis=0)
        return w * images + (1.0 - w) * other

    def transform_labels(self, labels, transformation, training=True):
        if not training:
            return labels
        other = jnp.take(labels, transformation["permutation_order"], axis=0)
        w = jnp.asarray(transformation["mix_weight"]).reshape(-1, 1)
        return w * labels + (1.0 - w) * other

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training:
            return segmentation_masks
        w = jnp.asarray(transformation["mix_weight"]).reshape(-1, 1, 1, 1)
        # Keras takes from the flattened masks (no axis), which this reproduces.
        other = jnp.take(segmentation_masks, transformation["permutation_order"])
        return w * segmentation_masks + (1.0 - w) * other

    _CONFIG_KEYS = ("data_format", "alpha", "seed")


class CutMix(_AugmentationLayer):
    """CutMix (`keras.layers.CutMix`): a random rectangle of each image is replaced by
    the same rectangle of another image of the batch; labels (dict input with
    `"labels"`) are mixed by the pasted area. A single image is returned unchanged.

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`: the Beta distribution's parameter
            is drawn from it (default `1.0`).
        seed, data_format: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = tuple(jnp.shape(images))
        if len(shape) == 3:
            return None
        n = shape[0]
        h, w = _hw_of(shape, self.data_format)
        dtype = self.compute_dtype
        k = _keys(self, seed, 5)
        alpha = _uniform(k[0], (), self.factor[0], self.factor[1], dtype) + 1e-6
        weight = jax.random.beta(k[1], alpha, alpha, (n,), dtype=dtype)
        ratio = jnp.sqrt(1.0 - weight)
        x0, x1 = _crop_bounds(k[2], n, w, ratio, dtype)
        y0, y1 = _crop_bounds(k[3], n, h, ratio, dtype)
        masks, (bx0, bx1, by0, by1), _ = _box_masks(shape, self.data_format,
                                                    (x0, x1, y0, y1), dtype)
        mix_weight = 1.0 - (bx1 - bx0) * (by1 - by0) / (w * h)
        permutation = jax.random.permutation(k[4], jnp.arange(n, dtype="int32"))
        return {"permutation_order": permutation, "batch_masks": masks,
                "mix_weight": mix_weight}

    def transform_images(self, images, transformation=None, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if training and transformation is not None:
            other = jnp.take(images, transformation["permutation_order"], axis=0)
            images = jnp.where(transformation["batch_masks"], other, images)
        return images.astype(self.compute_dtype)

    def transform_labels(self, labels, transformation, training=True):
        if training and transformation is not None:
            other = jnp.take(labels, transformation["permutation_order"], axis=0)
            w = jnp.reshape(transformation["mix_weight"], (-1, 1))
            labels = w * labels + (1.0 - w) * other
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)

    def _apply(self, fn, x, transformation, training, batched):
        if batched:
            return fn(x, transformation, training=training)
        return fn(x[None], None, training=training)[0]  # Keras: no mixing for one image

    _CONFIG_KEYS = ("data_format", "factor", "seed")


# ---- composition -----------------------------------------------------------------------------
class RandAugment(_AugmentationLayer):
    """RandAugment (`keras.layers.RandAugment`): `num_ops` operations, each picked at
    random (per batch) among shear, translation, rotation, brightness, color degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast and equalization, all
    with magnitude `factor`.

    Args:
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        num_ops: number of operations applied (default 2).
        factor: number or `(lower, upper)` in `[0, 1]` (default 0.5).
        interpolation: for the geometric operations (default `"bilinear"`).
        seed, data_format: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)
    _AUGMENT_LAYERS = ["random_shear", "random_translation", "random_rotation",
                       "random_brightness", "random_color_degeneration", "random_contrast",
                       "random_sharpness", "random_posterization", "solarization",
                       "auto_contrast", "equalization"]

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = interpolation
        self._make_generator(seed)
        f, vr, df = self.factor, self.value_range, data_format
        self.random_shear = RandomShear(x_factor=f, y_factor=f, interpolation=interpolation,
                                        seed=seed, data_format=df, **kwargs)
        self.random_translation = RandomTranslation(height_factor=f, width_factor=f,
                                                    interpolation=interpolation, seed=seed,
                                                    data_format=df, **kwargs)
        self.random_rotation = RandomRotation(factor=f, interpolation=interpolation, seed=seed,
                                              data_format=df, **kwargs)
        self.random_brightness = RandomBrightness(factor=f, value_range=vr, seed=seed,
                                                  data_format=df, **kwargs)
        self.random_color_degeneration = RandomColorDegeneration(
            factor=f, value_range=vr, seed=seed, data_format=df, **kwargs)
        self.random_contrast = RandomContrast(factor=f, value_range=vr, seed=seed,
                                              data_format=df, **kwargs)
        self.random_sharpness = RandomSharpness(factor=f, value_range=vr, seed=seed,
                                                data_format=df, **kwargs)
        self.solarization = Solarization(addition_factor=f, threshold_factor=f, value_range=vr,
                                         seed=seed, data_format=df, **kwargs)
        self.random_posterization = RandomPosterization(
            factor=max(1, int(8 * f[1])), value_range=vr, seed=seed, data_format=df, **kwargs)
        self.auto_contrast = AutoContrast(value_range=vr, data_format=df, **kwargs)
        self.equalization = Equalization(value_range=vr, data_format=df, **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        k = _keys(self, seed, 1 + len(self._AUGMENT_LAYERS))
        idxes = jax.random.randint(k[0], (self.num_ops,), 0, len(self._AUGMENT_LAYERS))
        transforms = {}
        for key, name in zip(k[1:], self._AUGMENT_LAYERS, strict=True):
            transforms[name] = getattr(self, name).get_random_transformation(
                self._images_of(data), training=True, seed=key)
        return {"transforms": transforms, "layer_idxes": idxes}

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if training:
            idxes = transformation["layer_idxes"]
            transforms = transformation["transforms"]
            for i in range(self.num_ops):
                for idx, (name, value) in enumerate(transforms.items()):
                    out = getattr(self, name).transform_images(images, value)
                    images = jnp.where(idxes[i] == idx, out, images)
        return images.astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "value_range", "num_ops", "factor", "interpolation", "seed")


class Pipeline(Layer):
    """Applies a list of layers in sequence (`keras.layers.Pipeline`); unlike
    `Sequential` it is a plain layer (not a model), meant for preprocessing.

    Args:
        layers: the list of layers.
        name: optional name.
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            params = layer._call_signature.parameters
            if "mask" in params:
                kwargs["mask"] = mask
            if "training" in params and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self._pipeline_layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @classmethod
    def from_config(cls, config):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of "
                f"serialized layers. Received config with layers={layers}.")
        config = dict(config)
        config["layers"] = [deserialize_keras_object(x) for x in layers]
        return cls(**config)

    def get_config(self):
        return {"layers": [serialize_keras_object(layer) for layer in self._pipeline_layers],
                "name": self.name}


_AUGMIX_ALL = ["random_shear", "random_translation", "random_rotation", "random_posterization",
               "solarization", "auto_contrast", "equalization", "random_brightness",
               "random_color_degeneration", "random_contrast", "random_sharpness"]
_AUGMIX_GEOMETRY_FREE = _AUGMIX_ALL[:7]


class AugMix(_AugmentationLayer):
    """AugMix (`keras.layers.AugMix`): `num_chains` chains of up to `chain_depth` random
    operations are applied to the images, mixed with Dirichlet(`alpha`) weights, and the
    result is blended with the original by a Beta(`alpha`, `alpha`) weight.

    Each step of a chain picks one operation (or none) at random. Keras picks them with
    Python's `random` when the step is traced (so a compiled step reuses one choice);
    here the choice is drawn from the layer's seed generator on every call, compiled or
    not (`lax.switch` in a compiled step).

    Args:
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        num_chains: number of chains (default 3).
        chain_depth: maximum operations per chain (default 3).
        factor: number or `(lower, upper)` in `[0, 1]`: the operations' magnitude
            (default 0.3).
        alpha: Dirichlet and Beta parameter (default 1.0).
        all_ops: also use brightness, color degeneration, contrast and sharpness
            (default `True`).
        interpolation: for the geometric operations (default `"bilinear"`).
        seed, data_format: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0,
                 all_ops=True, interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self._set_factor(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self._make_generator(seed)
        self._augment_layers = list(_AUGMIX_ALL if all_ops else _AUGMIX_GEOMETRY_FREE)
        f, vr, df = self.factor, self.value_range, data_format
        self.random_shear = RandomShear(x_factor=f, y_factor=f, interpolation=interpolation,
                                        seed=seed, data_format=df, **kwargs)
        self.random_translation = RandomTranslation(height_factor=f, width_factor=f,
                                                    interpolation=interpolation, seed=seed,
                                                    data_format=df, **kwargs)
        self.random_rotation = RandomRotation(factor=f, interpolation=interpolation, seed=seed,
                                              data_format=df, **kwargs)
        self.solarization = Solarization(addition_factor=f, threshold_factor=f, value_range=vr,
                                         seed=seed, data_format=df, **kwargs)
        self.random_posterization = RandomPosterization(
            factor=max(1, int(8 * f[1])), value_range=vr, seed=seed, data_format=df, **kwargs)
        self.auto_contrast = AutoContrast(value_range=vr, data_format=df, **kwargs)
        self.equalization = Equalization(value_range=vr, data_format=df, **kwargs)
        if all_ops:
            self.random_brightness = RandomBrightness(factor=f, value_range=vr, seed=seed,
                                                      data_format=df, **kwargs)
            self.random_color_degeneration = RandomColorDegeneration(
                factor=f, value_range=vr, seed=seed, data_format=df, **kwargs)
            self.random_contrast = RandomContrast(factor=f, value_range=vr, seed=seed,
                                                  data_format=df, **kwargs)
            self.random_sharpness = RandomSharpness(factor=f, value_range=vr, seed=seed,
                                                    data_format=df, **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        steps = self.num_chains * self.chain_depth
        k = _keys(self, seed, 3 + steps * (1 + len(self._augment_layers)))
        gamma = jax.random.gamma(k[0], self.alpha, (self.num_chains,))
        weights = gamma / jnp.sum(gamma, axis=-1, keepdims=True)
        weight_sample = jax.random.beta(k[1], self.alpha, self.alpha, ())
        chains, i = [], 3
        for _ in range(self.num_chains):
            depth = []
            for _ in range(self.chain_depth):
                # Index len(ops) means "no operation" (Keras's `None` choice).
                op_index = jax.random.randint(k[i], (), 0, len(self._augment_layers) + 1)
                i += 1
                ts = {}
                for name in self._augment_layers:
                    ts[name] = getattr(self, name).get_random_transformation(
                        images, training=True, seed=k[i])
                    i += 1
                depth.append({"op_index": op_index, "transformations": ts})
            chains.append(depth)
        return {"chain_mixing_weights": weights, "weight_sample": weight_sample,
                "chain_transforms": chains}

    def _step(self, images, step):
        if "layer_name" in step:  # Keras's form: the operation was chosen in Python
            return getattr(self, step["layer_name"]).transform_images(
                images, step["transformation"])
        names, ts = self._augment_layers, step["transformations"]
        index = step["op_index"]
        if not isinstance(index, jax.core.Tracer):
            index = int(index)
            if index >= len(names):
                return images
            return getattr(self, names[index]).transform_images(images, ts[names[index]])
        branches = [
            (lambda im, n=n: getattr(self, n).transform_images(im, ts[n]).astype(im.dtype))
            for n in names
        ] + [lambda im: im]
        return jax.lax.switch(index, branches, images)

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if training:
            weights = jnp.asarray(transformation["chain_mixing_weights"]).astype(self.compute_dtype)
            ws = jnp.asarray(transformation["weight_sample"]).astype(self.compute_dtype)
            aug = jnp.zeros_like(images)
            for idx, chain in enumerate(transformation["chain_transforms"]):
                x = images
                for step in chain:
                    x = self._step(x, step)
                aug = aug + x * weights[idx]
            images = ws * images + (1 - ws) * aug
            images = jnp.clip(images, self.value_range[0], self.value_range[1])
        return images.astype(self.compute_dtype)

    _CONFIG_KEYS = ("data_format", "value_range", "num_chains", "chain_depth", "factor",
                    "alpha", "all_ops", "interpolation", "seed")


class RandomPerspective(_AugmentationLayer):
    """Random perspective warp (`keras.layers.RandomPerspective`): each corner of the
    image moves by up to `scale / 2` times its coordinates, with a random probability.

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`: the probability of warping
            (default `1.0`).
        scale: number in `[0, 1]`: the corners' displacement (default `1.0`).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: value outside the warped image (default 0).
        seed, data_format: as the other layers.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = scale
        self.fill_value = fill_value
        self.interpolation = interpolation
        self._make_generator(seed)
        if scale < 0.0 or scale > 1.0:
            raise ValueError("RandomPerspective: the `scale` argument should be a number in "
                             f"the range [0,1]. Received: scale={scale}")
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(
                f"RandomPerspective: unknown `interpolation` {interpolation}. Expected one of "
                "('nearest', 'bilinear').")

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = tuple(jnp.shape(images))
        n = _batch_size(images)
        h, w = _hw_of(shape, self.data_format)
        k1, k2, k3 = _keys(self, seed, 3)
        probability = _uniform(k1, (n,), self.factor[0], self.factor[1])
        threshold = _uniform(k2, (n,))
        factor = _uniform(k3, (n, 4, 2), -0.5 * self.scale, 0.5 * self.scale, self.compute_dtype)
        start = jnp.asarray([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]],
                            self.compute_dtype)
        start = jnp.repeat(start, n, axis=0)
        return {"apply_perspective": threshold < probability, "start_points": start,
                "end_points": start + start * factor, "input_shape": shape}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        out = ops_image.perspective_transform(
            images, transformation["start_points"], transformation["end_points"],
            interpolation=interpolation, fill_value=self.fill_value, data_format=self.data_format)
        return jnp.where(transformation["apply_perspective"][:, None, None, None], out, images)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if training:
            return self._transform_images(segmentation_masks, transformation, "nearest")
        return segmentation_masks

    _CONFIG_KEYS = ("data_format", "factor", "scale", "interpolation", "fill_value", "seed")
