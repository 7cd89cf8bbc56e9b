"""Image preprocessing and augmentation layers, in jax.numpy (they run in the compiled step).

`Resizing`, `CenterCrop`, `RandomCrop`, `RandomFlip`, `RandomRotation`, `RandomZoom`,
`RandomTranslation`, `RandomContrast`, `RandomBrightness`. Inputs are one image (rank 3)
or a batch (rank 4), `channels_last` or `channels_first`.

Each random layer owns a `SeedGenerator` (`self.generator`, also `self.seed_generator`) and
follows Keras's two-step structure: `get_random_transformation(data, training, seed)` draws
the parameters and `transform_images(images, transformation, training)` applies them. As in
Keras 3, calling the layer directly (`training` left to its default) augments; inside a
model, `fit` augments and `predict`/`evaluate` (training=False) return the images unchanged
(cast to the compute dtype). Dict inputs with bounding boxes are not supported.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.backend.random import SeedGenerator, draw_seed, make_default_seed
from keras_on_jax.layers.layer import Layer

_RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
_AFFINE_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
_AFFINE_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


# ---- shared image functions ------------------------------------------------------------------
def _hw_axes(data_format):
    return (-3, -2) if data_format == "channels_last" else (-2, -1)


def _check_rank(images, layer):
    if images.ndim not in (3, 4):
        raise ValueError(
            f"Layer {layer}: expected image tensor to have rank 3 (single image) or 4 "
            f"(batch of images). Received: data.shape={tuple(images.shape)}"
        )


def _crop_hw(images, h0, w0, h, w, data_format):
    if data_format == "channels_last":
        return images[..., h0:h0 + h, w0:w0 + w, :]
    return images[..., h0:h0 + h, w0:w0 + w]


def _saturate_cast(x, dtype):
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.integer):
        info = jnp.iinfo(dtype)
        x = jnp.clip(x, info.min, info.max)
    return x.astype(dtype)


def resize_images(images, size, interpolation="bilinear", antialias=False,
                  crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                  fill_mode="constant", fill_value=0.0, data_format=None):
    """`keras.ops.image.resize` on the JAX backend (`jax.image.resize`)."""
    data_format = config.standardize_data_format(data_format)
    if interpolation not in _RESIZE_INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected one of "
            f"{_RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
            f"Received: fill_mode={fill_mode}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of "
            f"images). Received input with shape: images.shape={images.shape}"
        )
    target_h, target_w = (int(s) for s in size)
    ha, wa = _hw_axes(data_format)
    height, width = images.shape[ha], images.shape[wa]
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
        crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
        h0 = int(float(height - crop_h) / 2)
        w0 = int(float(width - crop_w) / 2)
        images = _crop_hw(images, h0, w0, crop_h, crop_w, data_format)
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(float(width * target_h) / target_w))
        pad_w = max(width, int(float(height * target_w) / target_h))
        h0 = int(float(pad_h - height) / 2)
        w0 = int(float(pad_w - width) / 2)
        pads = [(0, 0)] * images.ndim
        if h0 > 0:
            pads[ha] = (h0, h0)
        elif w0 > 0:
            pads[wa] = (w0, w0)
        if h0 > 0 or w0 > 0:
            images = jnp.pad(images, pads, constant_values=jnp.asarray(fill_value).astype(images.dtype))
    shape = list(images.shape)
    shape[ha], shape[wa] = target_h, target_w
    return jax.image.resize(images, tuple(shape), method=interpolation, antialias=antialias)


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0, data_format=None):
    """`keras.ops.image.affine_transform` (JAX backend): output pixel (y, x) samples the
    input at (b0*x + b1*y + b2, a0*x + a1*y + a2) with `jax.scipy.ndimage.map_coordinates`."""
    data_format = config.standardize_data_format(data_format)
    if interpolation not in _AFFINE_INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected one of "
            f"{set(_AFFINE_INTERPOLATIONS)}. Received: interpolation={interpolation}"
        )
    images = jnp.asarray(images)
    transform = jnp.asarray(transform)
    squeeze = images.ndim == 3
    if squeeze:
        images = images[None]
    if transform.ndim == 1:
        transform = transform[None]
    if data_format == "channels_first":
        images = jnp.transpose(images, (0, 2, 3, 1))
    _, h, w, c = images.shape
    yy, xx, cc = jnp.meshgrid(jnp.arange(h), jnp.arange(w), jnp.arange(c), indexing="ij")
    yy, xx, cc = (v.astype(transform.dtype) for v in (yy, xx, cc))

    def one(image, t):
        a0, a1, a2, b0, b1, b2, c0, c1 = (t[i] for i in range(8))
        y_in = xx * b0 + yy * b1 + cc * c0 + b2
        x_in = xx * a0 + yy * a1 + cc * c1 + a2
        return jax.scipy.ndimage.map_coordinates(
            image, [y_in, x_in, cc], order=_AFFINE_INTERPOLATIONS[interpolation],
            mode=fill_mode, cval=fill_value)

    out = jax.vmap(one)(images, transform)
    if data_format == "channels_first":
        out = jnp.transpose(out, (0, 3, 1, 2))
    return out[0] if squeeze else out


def smart_resize(images, size, interpolation="bilinear", data_format="channels_last"):
    """`keras.preprocessing.image.smart_resize`: center-crop to the target aspect ratio,
    then resize."""
    return resize_images(images, size, interpolation=interpolation,
                         crop_to_aspect_ratio=True, data_format=data_format)


def _check_seed(seed):
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")


# ---- base -------------------------------------------------------------------------------------------
class _BaseImageLayer(Layer):
    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor=None, bounding_box_format=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if bounding_box_format is not None:
            raise ValueError(
                f"{type(self).__name__}: `bounding_box_format` (bounding-box inputs) is not "
                f"supported by keras_on_jax. Received: bounding_box_format={bounding_box_format!r}"
            )
        self.bounding_box_format = None
        self.data_format = config.standardize_data_format(data_format)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(
                f"Layer {type(self).__name__} does not take a `factor` argument. "
                f"Received: factor={factor}"
            )

    def _set_factor(self, factor):
        lo_b, hi_b = self._FACTOR_BOUNDS
        msg = (f"{type(self).__name__}: the `factor` argument should be a number (or a list of "
               f"two numbers) in the range [{lo_b}, {hi_b}]. Received: factor={factor}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > hi_b or factor[1] < lo_b:
                raise ValueError(msg)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < lo_b or factor > hi_b:
                raise ValueError(msg)
            factor = abs(factor)
            lower, upper = max(-factor, lo_b), factor
        else:
            raise ValueError(msg)
        self.factor = (lower, upper)

    def _make_generator(self, seed):
        _check_seed(seed)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.seed_generator = self.generator

    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if training:
            images = self._transform_images(images, transformation, self.interpolation)
        return images

    def _image_hw(self, images):
        ha, wa = _hw_axes(self.data_format)
        return images.shape[ha], images.shape[wa]

    def call(self, data, training=True):
        if isinstance(data, dict):
            raise ValueError(
                f"{type(self).__name__}: dict inputs (images with labels, bounding boxes or "
                "segmentation masks) are not supported by keras_on_jax; pass the images array."
            )
        data = jnp.asarray(data)
        _check_rank(data, self.name)
        transformation = self.get_random_transformation(data, training=training)
        return self.transform_images(data, transformation, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _seed_key(layer, seed):
    return draw_seed(layer.generator if seed is None else seed)


# ---- resizing and cropping -------------------------------------------------------------------
class Resizing(_BaseImageLayer):
    """Resizes images to `(height, width)` (`keras.layers.Resizing`).

    Args:
        height, width: output size.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"`, `"lanczos3"`,
            `"lanczos5"`.
        crop_to_aspect_ratio: center-crop to the target aspect ratio before resizing.
        pad_to_aspect_ratio: pad (with `fill_value`) to the target aspect ratio first.
        fill_mode: only `"constant"`.
        fill_value: padding value for `pad_to_aspect_ratio`.
        antialias: antialiasing filter when downsampling.
        data_format: `"channels_last"` or `"channels_first"`.

    Integer images keep their dtype (values rounded and saturated), as in Keras.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if interpolation not in _RESIZE_INTERPOLATIONS:
            raise ValueError(
                f"Resizing: invalid `interpolation`. Expected one of {_RESIZE_INTERPOLATIONS}. "
                f"Received: interpolation={interpolation!r}"
            )
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of `pad_to_aspect_ratio` & "
                             "`crop_to_aspect_ratio` can be `True`.")
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def _resize(self, images, interpolation):
        resized = resize_images(
            images, (self.height, self.width), interpolation=interpolation,
            antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)
        if resized.dtype == images.dtype:
            return resized
        if jnp.issubdtype(images.dtype, jnp.integer):
            resized = jnp.round(resized)
        return _saturate_cast(resized, images.dtype)

    def transform_images(self, images, transformation=None, training=True):
        return self._resize(jnp.asarray(images), self.interpolation)

    def get_random_transformation(self, data, training=True, seed=None):
        return self._image_hw(data)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        ha, wa = _hw_axes(self.data_format)
        shape[ha], shape[wa] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        base = super().get_config()
        base.update({
            "data_format": self.data_format, "height": self.height, "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
            "fill_value": self.fill_value, "antialias": self.antialias,
        })
        return base


class CenterCrop(_BaseImageLayer):
    """Crops the central `(height, width)` portion of images (`keras.layers.CenterCrop`).

    Images smaller than the target are resized (`smart_resize`: crop to the aspect ratio,
    then bilinear resize). Output is in the compute dtype (float32 by default).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width

    def get_random_transformation(self, data, training=True, seed=None):
        return {"input_shape": tuple(jnp.shape(data))}

    def transform_images(self, images, transformation=None, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        h, w = self._image_hw(images)
        dh, dw = h - self.height, w - self.width
        if dh >= 0 and dw >= 0:
            return _crop_hw(images, dh // 2, dw // 2, self.height, self.width, self.data_format)
        return smart_resize(images, (self.height, self.width), data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if len(shape) not in (3, 4):
            raise ValueError("CenterCrop: `input_shape` must be a rank-3 (unbatched) or rank-4 "
                             f"(batched) shape. Received: input_shape={tuple(input_shape)}")
        ha, wa = _hw_axes(self.data_format)
        shape[ha], shape[wa] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "height": self.height,
                     "width": self.width})
        return base


class RandomCrop(_BaseImageLayer):
    """Randomly crops images to `(height, width)` during training (`keras.layers.RandomCrop`).

    All images of a batch share one crop location. At inference (and in training when the
    image is not larger than the target) the largest central window with the target aspect
    ratio is taken and resized to the target size, as Keras documents. (Keras 3.15's code
    returns the input unchanged at inference, which contradicts its own
    `compute_output_shape`; this layer follows the documented behaviour.)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(name=name, data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        _check_seed(seed)
        self.seed = seed if seed is not None else make_default_seed()
        self.generator = SeedGenerator(seed)
        self.seed_generator = self.generator

    def get_random_transformation(self, data, training=True, seed=None):
        h, w = self._image_hw(data)
        if training and h > self.height and w > self.width:
            key = _seed_key(self, seed)
            k1, k2 = jax.random.split(key)
            h0 = jax.random.uniform(k1, (), minval=0.0, maxval=float(h - self.height + 1)).astype("int32")
            w0 = jax.random.uniform(k2, (), minval=0.0, maxval=float(w - self.width + 1)).astype("int32")
            return h0, w0
        crop_h = max(min(h, int(float(w * self.height) / self.width)), 1)
        crop_w = max(min(w, int(float(h * self.width) / self.height)), 1)
        return int(float(h - crop_h) / 2), int(float(w - crop_w) / 2), crop_h, crop_w

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if len(transformation) == 2:
            h0, w0 = transformation
            ha, wa = _hw_axes(self.data_format)
            start = [0] * images.ndim
            size = list(images.shape)
            start[ha], start[wa] = h0, w0
            size[ha], size[wa] = self.height, self.width
            return jax.lax.dynamic_slice(images, start, size)
        h0, w0, ch, cw = transformation
        images = _crop_hw(images, h0, w0, ch, cw, self.data_format)
        if (ch, cw) != (self.height, self.width):
            images = resize_images(images, (self.height, self.width),
                                   data_format=self.data_format).astype(self.compute_dtype)
        return images

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        ha, wa = _hw_axes(self.data_format)
        shape[ha], shape[wa] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "height": self.height,
                     "width": self.width, "seed": self.seed})
        return base


# ---- flips and affine augmentations -----------------------------------------------------------
HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(_BaseImageLayer):
    """Randomly flips images horizontally and/or vertically during training.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default).
        seed: integer seed.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}; "
                f"expected one of {(HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL)}."
            )
        self._make_generator(seed)
        self.mode = mode

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        shape = tuple(jnp.shape(data))
        flips_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        flips = jax.random.uniform(_seed_key(self, seed), flips_shape) <= 0.5
        return {"flips": flips, "input_shape": shape}

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training or transformation is None:
            return images
        flips = transformation["flips"]
        unbatched = images.ndim == 3
        if unbatched:
            images = images[None]
        h_axis, v_axis = (-2, -3) if self.data_format == "channels_last" else (-1, -2)
        out = images
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            out = jnp.where(flips, jnp.flip(out, axis=h_axis), out)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            out = jnp.where(flips, jnp.flip(out, axis=v_axis), out)
        return out[0] if unbatched else out

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "seed": self.seed, "mode": self.mode})
        return base


def _check_fill_interp(layer, fill_mode, interpolation):
    if fill_mode not in _AFFINE_FILL_MODES:
        raise NotImplementedError(
            f"{layer}: unknown `fill_mode` {fill_mode}. Expected one of {_AFFINE_FILL_MODES}.")
    if interpolation not in _AFFINE_INTERPOLATIONS:
        raise NotImplementedError(
            f"{layer}: unknown `interpolation` {interpolation}. Expected one of "
            f"{tuple(_AFFINE_INTERPOLATIONS)}.")


def _batch_and_hw(images, data_format):
    shape = tuple(jnp.shape(images))
    batch = shape[0] if len(shape) == 4 else 1
    ha, wa = _hw_axes(data_format)
    return batch, shape[ha], shape[wa]


def compute_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale,
                          shear_x, shear_y, height, width):
    """Keras's `_compute_affine_matrix`: scale * shear * rotation about the center; angles
    in degrees; returns `(batch, 8)` transforms."""
    rad = math.pi / 180.0
    angle = angle * rad
    shear_x = jnp.tan(shear_x * rad)
    shear_y = jnp.tan(shear_y * rad)
    batch = angle.shape[0]
    cx = center_x * (jnp.asarray(width, angle.dtype) - 1)
    cy = center_y * (jnp.asarray(height, angle.dtype) - 1)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    return jnp.concatenate([a0[:, None], a1[:, None], a2[:, None], b0[:, None], b1[:, None],
                            b2[:, None], jnp.zeros((batch, 2), angle.dtype)], axis=1)


class RandomRotation(_BaseImageLayer):
    """Randomly rotates images during training (`keras.layers.RandomRotation`).

    Args:
        factor: a float or `(lower, upper)` fraction of 2π; `0.2` rotates by a random
            angle in `[-20% * 360°, 20% * 360°]`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"`, `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: integer seed.
        fill_value: value outside the boundaries with `fill_mode="constant"`.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        _check_fill_interp("RandomRotation", fill_mode, interpolation)
        self._make_generator(seed)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _transform_images(self, images, transformation, interpolation):
        return affine_transform(images, transformation["rotation_matrix"], interpolation,
                                self.fill_mode, self.fill_value, self.data_format)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        batch, h, w = _batch_and_hw(data, self.data_format)
        angle = jax.random.uniform(_seed_key(self, seed), (batch,),
                                   minval=self.factor[0] * 360.0, maxval=self.factor[1] * 360.0)
        zeros, ones = jnp.zeros((batch,)), jnp.ones((batch,))
        matrix = compute_affine_matrix(0.5, 0.5, angle, zeros, zeros, ones, zeros, zeros, h, w)
        if jnp.ndim(data) == 3:
            matrix = matrix[0]
        return {"angle": angle, "rotation_matrix": matrix, "image_height": h,
                "image_width": w, "batch_size": batch}

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "factor": self.factor,
                     "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                     "interpolation": self.interpolation, "seed": self.seed})
        return base


class _HeightWidthFactorLayer(_BaseImageLayer):
    _USE_BASE_FACTOR = False
    _STRICT_LOWER = False

    def _set_hw_factor(self, factor, name):
        msg = (f"{type(self).__name__}: the `{name}` argument should be a number (or a list "
               f"of two numbers) in the range [-1.0, 1.0]. Received: {name}={factor}")

        def check(v):
            if v > 1.0 or v < -1.0 or (self._STRICT_LOWER and v <= -1.0):
                raise ValueError(msg)

        if isinstance(factor, (tuple, list)):
            if len(factor) != 2:
                raise ValueError(msg)
            check(factor[0])
            check(factor[1])
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            check(factor)
            factor = abs(factor)
            return -factor, factor
        raise ValueError(msg)

    def _affine(self, images, transform, interpolation):
        unbatched = images.ndim == 3
        if unbatched:
            images = images[None]
        out = affine_transform(images, transform, interpolation, self.fill_mode,
                               self.fill_value, self.data_format)
        return out[0] if unbatched else out

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "height_factor": self.height_factor,
                     "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                     "interpolation": self.interpolation, "seed": self.seed,
                     "fill_value": self.fill_value})
        return base


class RandomZoom(_HeightWidthFactorLayer):
    """Randomly zooms images during training (`keras.layers.RandomZoom`).

    Args:
        height_factor: float or `(lower, upper)` in `(-1, 1]`; positive values zoom out,
            negative values zoom in (the height is scaled by `1 + factor`).
        width_factor: same for the width; `None` keeps the aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: as `RandomRotation`.
    """

    _STRICT_LOWER = True

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._set_hw_factor(height_factor, "height_factor")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = self._set_hw_factor(width_factor, "width_factor")
        _check_fill_interp("RandomZoom", fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        shape = tuple(jnp.shape(data))
        zshape = (shape[0], 1) if len(shape) == 4 else (1, 1)
        key = _seed_key(self, seed)
        k1, k2 = jax.random.split(key)
        hz = jax.random.uniform(k1, zshape, minval=1.0 + self.height_lower,
                                maxval=1.0 + self.height_upper)
        if self.width_factor is not None:
            wz = jax.random.uniform(k2, zshape, minval=1.0 + self.width_lower,
                                    maxval=1.0 + self.width_upper)
        else:
            wz = hz
        return {"height_zoom": hz, "width_zoom": wz, "input_shape": shape}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        zooms = jnp.concatenate([transformation["width_zoom"], transformation["height_zoom"]],
                                axis=1).astype("float32")
        _, h, w = _batch_and_hw(images, self.data_format)
        n = zooms.shape[0]
        x_off = ((w - 1.0) / 2.0) * (1.0 - zooms[:, 0:1])
        y_off = ((h - 1.0) / 2.0) * (1.0 - zooms[:, 1:])
        z = jnp.zeros((n, 1))
        transform = jnp.concatenate([zooms[:, 0:1], z, x_off, z, zooms[:, 1:], y_off,
                                     jnp.zeros((n, 2))], axis=1)
        return self._affine(images, transform, interpolation)


class RandomTranslation(_HeightWidthFactorLayer):
    """Randomly translates images during training (`keras.layers.RandomTranslation`).

    Args:
        height_factor: float or `(lower, upper)` in `[-1, 1]`, a fraction of the height.
        width_factor: float or `(lower, upper)` in `[-1, 1]`, a fraction of the width.
        fill_mode, interpolation, seed, fill_value, data_format: as `RandomRotation`.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._set_hw_factor(height_factor, "height_factor")
        self.width_factor = width_factor
        self.width_lower, self.width_upper = self._set_hw_factor(width_factor, "width_factor")
        _check_fill_interp("RandomTranslation", fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        batch, h, w = _batch_and_hw(data, self.data_format)
        k1, k2 = jax.random.split(_seed_key(self, seed))
        ht = jax.random.uniform(k1, (batch, 1), minval=self.height_lower,
                                maxval=self.height_upper) * h
        wt = jax.random.uniform(k2, (batch, 1), minval=self.width_lower,
                                maxval=self.width_upper) * w
        translations = jnp.concatenate([wt, ht], axis=1).astype("float32")
        return {"translations": translations, "input_shape": tuple(jnp.shape(data))}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        t = transformation["translations"]
        n = t.shape[0]
        o, z = jnp.ones((n, 1)), jnp.zeros((n, 1))
        transform = jnp.concatenate([o, z, -t[:, 0:1], z, o, -t[:, 1:], jnp.zeros((n, 2))], axis=1)
        return self._affine(images, transform, interpolation)


# ---- color augmentations ----------------------------------------------------------------------------
class RandomContrast(_BaseImageLayer):
    """Randomly adjusts contrast during training (`keras.layers.RandomContrast`).

    Each image's channels are mapped to `(x - mean) * f + mean` (mean over height and
    width) with `f` drawn from `[1 - lower, 1 + upper]`, then clipped to `value_range`.

    Args:
        factor: float or `(lower, upper)` in `[0, 1]`.
        value_range: `(min, max)` of the inputs (default `(0, 255)`).
        seed: integer seed.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(**kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        shape = tuple(jnp.shape(data))
        fshape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        if not training:
            return {"contrast_factor": jnp.zeros(fshape)}
        f = jax.random.uniform(_seed_key(self, seed), fshape, dtype=self.compute_dtype,
                               minval=1.0 - self.factor[0], maxval=1.0 + self.factor[1])
        return {"contrast_factor": f}

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training:
            return images
        ha, wa = _hw_axes(self.data_format)
        mean = jnp.mean(jnp.mean(images, axis=ha, keepdims=True), axis=wa, keepdims=True)
        out = (images - mean) * transformation["contrast_factor"] + mean
        return jnp.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "factor": self.factor,
                     "value_range": self.value_range, "seed": self.seed})
        return base


class RandomBrightness(_BaseImageLayer):
    """Randomly adjusts brightness during training (`keras.layers.RandomBrightness`).

    A delta drawn from `factor * (value_range[1] - value_range[0])` is added to every
    pixel of an image, then the result is clipped to `value_range`.

    Args:
        factor: float or `(lower, upper)` in `[-1, 1]`.
        value_range: `(min, max)` of the inputs (default `(0, 255)`).
        seed: integer seed.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self._make_generator(seed)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                "RandomBrightness: the `value_range` argument should be a list of two "
                f"numbers. Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        shape = tuple(jnp.shape(data))
        dshape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        if not training:
            return {"rgb_delta": jnp.zeros(dshape)}
        delta = jax.random.uniform(_seed_key(self, seed), dshape, minval=self.factor[0],
                                   maxval=self.factor[1])
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation, training=True):
        images = jnp.asarray(images).astype(self.compute_dtype)
        if not training:
            return images
        images = images + transformation["rgb_delta"].astype(images.dtype)
        return jnp.clip(images, self.value_range[0], self.value_range[1])

    def get_config(self):
        base = super().get_config()
        base.update({"data_format": self.data_format, "factor": self.factor,
                     "value_range": self.value_range, "seed": self.seed})
        return base
