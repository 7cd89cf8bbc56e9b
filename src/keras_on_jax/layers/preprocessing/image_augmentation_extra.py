"""Two more image preprocessing layers of Keras 3's `image_preprocessing` family, in
jax.numpy: `RandomElasticTransform` and `ContrastLimitedAdaptiveHistogramEqualization`.

They follow the structure of image_augmentation.py: `get_random_transformation(data,
training, seed)` draws the parameters (a dict with Keras's keys, so Keras's own draws can be
replayed) and `transform_images(images, transformation, training)` applies them; a single
image (rank 3) is processed as a batch of one; dict inputs (`"images"`, `"labels"`,
`"segmentation_masks"`) are accepted, bounding boxes are not.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import random as krandom
from keras_on_jax.layers.preprocessing.image_augmentation import (
    _AugmentationLayer,
    _batch_size,
    _clipped_factor,
    _keys,
    _transform_value_range,
    _uniform,
)


# ---- RandomElasticTransform ------------------------------------------------------------------
def _elastic_key(seed):
    """The key of the displacement field. A Python int is read as Keras's jax backend
    reads it (`[seed, 0]`), so Keras's `transformation["seed"]` replays exactly."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return jax.random.wrap_key_data(jnp.asarray([int(seed) & 0xFFFFFFFF, 0], "uint32"))
    return krandom.draw_seed(seed)


def _gaussian_taps(size, sigma, dtype):
    """Keras's 1-D Gaussian kernel of `floor(6 * sigma) | 1` taps, laid out centred in
    `size` (odd, at least as many) taps with zeros outside: the same filter under `SAME`
    padding, and `sigma` may be traced (the kernel's size then is not static)."""
    sigma = jnp.asarray(sigma, dtype)
    taps = jnp.bitwise_or(jnp.floor(6 * sigma).astype("int32"), 1)
    radius = (taps - 1) // 2
    x = jnp.arange(size, dtype=dtype) - jnp.asarray((size - 1) // 2, dtype)
    kernel = jnp.exp(-0.5 * (x / sigma) ** 2)
    kernel = jnp.where(jnp.abs(x) <= radius.astype(dtype), kernel, jnp.zeros_like(kernel))
    return kernel / jnp.sum(kernel)


def _blur_field(field, sigma, size):
    """Gaussian blur (zero `SAME` padding) of a `(batch, height, width)` field with the
    2-D kernel Keras uses (the outer product of the 1-D taps; two 1-D passes would round
    differently, which the displacement magnifies)."""
    taps = _gaussian_taps(size, sigma, field.dtype)
    kernel = jnp.outer(taps, taps)[None, None]
    out = jax.lax.conv_general_dilated(field[:, None], kernel, (1, 1), "SAME",
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return out[:, 0]


class RandomElasticTransform(_AugmentationLayer):
    """Random elastic deformation (`keras.layers.RandomElasticTransform`).

    Each image is resampled at `(y + alpha * d, x + alpha * d)`, `d` a Gaussian-smoothed
    (standard deviation `sigma`) normal noise field, with probability drawn from `factor`.
    `alpha = 0.1 * s * max(height, width)` and `sigma = 0.05 * s * min(height, width)`,
    `s` drawn from `scale` once per batch. As Keras's jax backend does, the same noise
    field displaces both axes. Outputs are clipped to `value_range`.

    Args:
        factor: number or `(lower, upper)` in `[0, 1]`: each image is transformed with a
            probability drawn from that range (default `1.0`, i.e. `(0, 1)`).
        scale: number or `(lower, upper)` in `[0, 1]`: the distortion's magnitude
            (default `1.0`, i.e. `(0, 1)`).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"constant"`, `"nearest"`, `"wrap"`, `"mirror"`.
        fill_value: value outside the image with `fill_mode="constant"` (default 0).
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        seed, data_format: as the other layers.

    Unlike Keras 3.15 on JAX (where the kernel size must be a concrete number), the layer
    runs inside a compiled step: a traced `sigma` uses a kernel sized for `scale`'s upper
    bound whose taps beyond Keras's kernel are zero.
    """

    _FACTOR_BOUNDS = (0, 1)
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")
    _SUPPORTED_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = _clipped_factor("RandomElasticTransform", scale, "scale")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range
        self._make_generator(seed)
        if interpolation not in self._SUPPORTED_INTERPOLATION:
            raise NotImplementedError(
                f"RandomElasticTransform: unknown `interpolation` {interpolation}. Expected "
                f"one of {self._SUPPORTED_INTERPOLATION}.")
        if fill_mode not in self._SUPPORTED_FILL_MODES:
            raise NotImplementedError(
                f"RandomElasticTransform: unknown `fill_mode` {fill_mode}. Expected one of "
                f"{self._SUPPORTED_FILL_MODES}.")

    def get_random_transformation(self, data, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n = _batch_size(self._images_of(data))
        k1, k2, k3, k4 = _keys(self, seed, 4)
        probability = _uniform(k1, (n,), self.factor[0], self.factor[1])
        threshold = _uniform(k2, (n,))
        distortion = _uniform(k3, (), self.scale[0], self.scale[1], self.compute_dtype)
        return {"apply_transform": threshold < probability, "distortion_factor": distortion,
                "seed": k4}

    def _hw(self, images):
        if self.data_format == "channels_first":
            return images.shape[-2], images.shape[-1]
        return images.shape[-3], images.shape[-2]

    def _elastic(self, images, alpha, sigma, key, interpolation):
        """Keras's `ops.image.elastic_transform` on a batch, with a possibly traced
        `sigma`."""
        dtype = images.dtype
        if self.data_format == "channels_first":
            images = jnp.transpose(images, (0, 2, 3, 1))
        n, h, w, _ = images.shape
        if isinstance(sigma, jax.core.Tracer):
            bound = np.float32(min(h, w)) * np.float32(0.05) * np.float32(self.scale[1])
            size = (int(6 * float(bound)) + 2) | 1
        else:
            size = int(6 * sigma) | 1
        field = jax.random.normal(key, (n, h, w), dtype=dtype) * sigma
        field = _blur_field(field, sigma, size)
        y, x = jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing="ij")
        xs = x[None] + alpha * field
        ys = y[None] + alpha * field
        order = 1 if interpolation == "bilinear" else 0

        def one(image, yi, xi):
            def channel(c):
                return jax.scipy.ndimage.map_coordinates(
                    c, [yi, xi], order=order, mode=self.fill_mode, cval=self.fill_value)

            return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

        out = jax.vmap(one)(images, ys, xs).astype(dtype)
        if self.data_format == "channels_first":
            out = jnp.transpose(out, (0, 3, 1, 2))
        return out

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        images = jnp.asarray(images)
        batched = images.ndim == 4
        if not batched:
            images = images[None]
        h, w = self._hw(images)
        factor = jnp.asarray(transformation["distortion_factor"], self.compute_dtype)
        alpha = max(h, w) * (0.1 * factor)
        sigma = min(h, w) * (0.05 * factor)
        key = _elastic_key(transformation["seed"])
        transformed = self._elastic(images, alpha, sigma, key, interpolation)
        apply = jnp.asarray(transformation["apply_transform"]).reshape(-1, 1, 1, 1)
        images = jnp.where(apply, transformed, images)
        images = jnp.clip(images, self.value_range[0], self.value_range[1])
        images = images.astype(self.compute_dtype)
        return images if batched else images[0]

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if training:
            masks = jnp.asarray(segmentation_masks).astype(self.compute_dtype)
            return self._transform_images(masks, transformation, "nearest")
        return segmentation_masks

    _CONFIG_KEYS = ("data_format", "factor", "scale", "interpolation", "fill_mode",
                    "fill_value", "value_range", "seed")


# ---- ContrastLimitedAdaptiveHistogramEqualization --------------------------------------------
def _clahe(images, clip_limit, grid):
    """Keras's CLAHE on a `(batch, height, width, channels)` batch in the (0, 255) scale:
    per-tile 256-bin histograms, clipped at `clip_limit * tile_pixels / 256` with the excess
    spread evenly, mapped through their normalised CDFs and bilinearly interpolated between
    the four nearest tile centres."""
    n, h, w, c = images.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    ph, pw = th * gh - h, tw * gw - w
    if ph or pw:
        images = jnp.pad(images, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="symmetric")
    tiles = images.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
    values = jnp.clip(tiles.reshape(-1, th * tw).astype("int32"), 0, 255)
    rows = values.shape[0]
    flat = (jnp.arange(rows, dtype="int32")[:, None] * 256 + values).reshape(-1)
    hist = jnp.zeros((rows * 256,), "float32").at[flat].add(1.0).reshape(n, gh, gw, c, 256)
    if clip_limit > 0:
        limit = jnp.asarray(clip_limit * (th * tw) / 256.0, "float32")
        clipped = jnp.clip(hist, 0, limit)
        excess = jnp.sum(hist - clipped, axis=-1, keepdims=True)
        hist = clipped + excess / 256.0
    cdf = jnp.cumsum(hist, axis=-1)
    cdf_min = jnp.min(cdf, axis=-1, keepdims=True)
    denominator = jnp.asarray(th * tw, cdf.dtype) - cdf_min
    denominator = jnp.where(denominator == 0, jnp.ones_like(denominator), denominator)
    lut = jnp.clip((cdf - cdf_min) * 255.0 / denominator, 0, 255)
    lut = jnp.pad(lut, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")

    def centres(length, tile, count):
        pos = (jnp.arange(length, dtype="float32") - tile / 2.0) / tile + 1.0
        lo = jnp.floor(pos)
        weight = pos - lo
        return (jnp.clip(lo, 0, count + 1).astype("int32"),
                jnp.clip(lo + 1.0, 0, count + 1).astype("int32"), weight)

    y0, y1, wy = centres(th * gh, th, gh)
    x0, x1, wx = centres(tw * gw, tw, gw)
    pixels = jnp.clip(images, 0, 255).astype("int32")
    b = jnp.arange(n)[:, None, None, None]
    ch = jnp.arange(c)[None, None, None, :]
    y0, y1, wy = y0[None, :, None, None], y1[None, :, None, None], wy[None, :, None, None]
    x0, x1, wx = x0[None, None, :, None], x1[None, None, :, None], wx[None, None, :, None]
    top = lut[b, y0, x0, ch, pixels] * (1.0 - wx) + lut[b, y0, x1, ch, pixels] * wx
    bottom = lut[b, y1, x0, ch, pixels] * (1.0 - wx) + lut[b, y1, x1, ch, pixels] * wx
    result = top * (1.0 - wy) + bottom * wy
    return result[:, :h, :w, :]


class ContrastLimitedAdaptiveHistogramEqualization(_AugmentationLayer):
    """Contrast Limited Adaptive Histogram Equalization
    (`keras.layers.ContrastLimitedAdaptiveHistogramEqualization`): each channel is
    equalized per tile of a `tile_grid_size` grid, with histograms clipped at `clip_limit`
    and the tiles' mappings bilinearly blended. Deterministic, and applied in training and
    inference alike; outputs keep the inputs' dtype.

    Args:
        value_range: `(low, high)` of the inputs (default `(0, 255)`).
        clip_limit: histogram clip limit, relative to a flat histogram (default 4.0;
            0 or less: no clipping).
        tile_grid_size: `(rows, columns)` of tiles (default `(8, 8)`).
        data_format: `"channels_last"` or `"channels_first"`.

    Dict inputs: `"labels"` and `"segmentation_masks"` pass through unchanged (Keras
    raises `NotImplementedError` for them).
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if (not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                           and v > 0 for v in tile_grid_size)):
            raise ValueError(
                "ContrastLimitedAdaptiveHistogramEqualization: `tile_grid_size` should be a "
                "tuple of two positive integers `(rows, columns)`. Received: "
                f"tile_grid_size={tile_grid_size}")
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images, transformation=None, training=True):
        images = jnp.asarray(images)
        batched = images.ndim == 4
        if not batched:
            images = images[None]
        if self.data_format == "channels_first":
            images = jnp.transpose(images, (0, 2, 3, 1))
        dtype = images.dtype
        x = _transform_value_range(images, self.value_range, (0, 255), "float32")
        x = _clahe(x, float(self.clip_limit), tuple(int(v) for v in self.tile_grid_size))
        x = _transform_value_range(x, (0, 255), self.value_range, "float32").astype(dtype)
        if self.data_format == "channels_first":
            x = jnp.transpose(x, (0, 3, 1, 2))
        return x if batched else x[0]

    def _draw(self, data, images, training):
        return None  # deterministic: nothing to draw, applied whatever `training` is

    _CONFIG_KEYS = ("data_format", "value_range", "clip_limit", "tile_grid_size")
