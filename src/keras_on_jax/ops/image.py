"""`keras.ops.image`: resizing, geometric transforms, patches and colour ops over `jax.image`."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.backend.variables import convert_to_tensor as _t

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
AFFINE_TRANSFORM_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
SCALE_AND_TRANSLATE_METHODS = (
    "linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3", "lanczos5",
)


def _check_rank(images, name="images"):
    if images.ndim not in (3, 4):
        raise ValueError(
            f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: {name}.shape={images.shape}"
        )


def _check_float(images):
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(f"Invalid images dtype: expected float dtype. Received: images.dtype={images.dtype}")


def rgb_to_grayscale(images, data_format=None):
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    axis = -1 if data_format == "channels_last" else -3
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
            f"Received input with shape: images.shape={images.shape}"
        )
    if images.shape[axis] == 1:
        return images
    ori = images.dtype
    x = images.astype(jnp.promote_types(ori, jnp.float32) if not jnp.issubdtype(ori, jnp.floating) else ori)
    weights = jnp.asarray([0.2989, 0.5870, 0.1140], x.dtype)
    gray = jnp.tensordot(x, weights, axes=(axis, -1))
    return jnp.expand_dims(gray, axis).astype(ori)


def rgb_to_hsv(images, data_format=None):
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    _check_float(images)
    axis = -1 if data_format == "channels_last" else -3
    eps = jnp.finfo(images.dtype).eps
    images = jnp.where(jnp.abs(images) < eps, 0.0, images)
    r, g, b = (jnp.squeeze(p, axis) for p in jnp.split(images, 3, axis))
    value = jnp.maximum(jnp.maximum(r, g), b)
    rng = value - jnp.minimum(jnp.minimum(r, g), b)
    safe_value = jnp.where(value > 0, value, 1.0)
    safe_range = jnp.where(rng > 0, rng, 1.0)
    saturation = jnp.where(value > 0, rng / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_range)
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(rng > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return jnp.stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images, data_format=None):
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    _check_float(images)
    axis = -1 if data_format == "channels_last" else -3
    h, s, v = (jnp.squeeze(p, axis) for p in jnp.split(images, 3, axis))
    dh = jnp.mod(h, 1.0) * 6.0
    dr = jnp.clip(jnp.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = jnp.clip(2.0 - jnp.abs(dh - 2.0), 0.0, 1.0)
    db = jnp.clip(2.0 - jnp.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - s
    return jnp.stack([v * (one_minus_s + s * d) for d in (dr, dg, db)], axis=axis)


def _hw(images, data_format):
    if data_format == "channels_last":
        return images.shape[-3], images.shape[-2]
    return images.shape[-2], images.shape[-1]


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Resize images to `size = (height, width)`."""
    data_format = config.standardize_data_format(data_format)
    images = _t(images)
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {RESIZE_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: fill_mode={fill_mode}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if len(size) != 2:
        raise ValueError(f"Argument `size` must be a tuple of two elements (height, width). Received: size={size}")
    _check_rank(images)
    th, tw = (int(s) for s in size)
    height, width = _hw(images, data_format)
    h_axis = images.ndim - 3 if data_format == "channels_last" else images.ndim - 2
    if crop_to_aspect_ratio:
        ch = max(min(height, int(float(width * th) / tw)), 1)
        cw = max(min(width, int(float(height * tw) / th)), 1)
        hs = int(float(height - ch) / 2)
        ws = int(float(width - cw) / 2)
        images = jax.lax.slice_in_dim(images, hs, hs + ch, axis=h_axis)
        images = jax.lax.slice_in_dim(images, ws, ws + cw, axis=h_axis + 1)
    elif pad_to_aspect_ratio:
        ph = max(height, int(float(width * th) / tw))
        pw = max(width, int(float(height * tw) / th))
        hs = int(float(ph - height) / 2)
        ws = int(float(pw - width) / 2)
        pad = [(0, 0)] * images.ndim
        if hs > 0:
            pad[h_axis] = (hs, hs)
        elif ws > 0:
            pad[h_axis + 1] = (ws, ws)
        images = jnp.pad(images, pad, constant_values=jnp.asarray(fill_value, images.dtype))
    out_shape = list(images.shape)
    out_shape[h_axis], out_shape[h_axis + 1] = th, tw
    return jax.image.resize(images, tuple(out_shape), method=interpolation, antialias=antialias)


def _check_fill(fill_mode, allowed=FILL_MODES):
    if fill_mode not in allowed:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected of one {set(allowed)}. Received: fill_mode={fill_mode}")


def _check_interp(interpolation):
    if interpolation not in AFFINE_TRANSFORM_INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {set(AFFINE_TRANSFORM_INTERPOLATIONS)}. "
            f"Received: interpolation={interpolation}"
        )


def affine_transform(
    images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0, data_format=None
):
    """Apply projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]` (output -> input map)."""
    data_format = config.standardize_data_format(data_format)
    _check_interp(interpolation)
    _check_fill(fill_mode)
    images, transform = _t(images), _t(transform)
    _check_rank(images)
    if transform.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of transforms). "
            f"Received input with shape: transform.shape={transform.shape}"
        )
    squeeze = images.ndim == 3
    if squeeze:
        images = images[None]
    if transform.ndim == 1:
        transform = transform[None]
    if data_format == "channels_first":
        images = jnp.transpose(images, (0, 2, 3, 1))
    batch, height, width, channels = images.shape
    transform = jnp.broadcast_to(transform, (batch, 8)).astype(images.dtype if jnp.issubdtype(images.dtype, jnp.floating) else "float32")
    y, x = jnp.meshgrid(jnp.arange(height, dtype=transform.dtype), jnp.arange(width, dtype=transform.dtype), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (transform[:, i, None, None] for i in range(8))
    k = c0 * x + c1 * y + 1.0
    x_in = (a0 * x + a1 * y + a2) / k
    y_in = (b0 * x + b1 * y + b2) / k
    order = AFFINE_TRANSFORM_INTERPOLATIONS[interpolation]

    def one(image, yi, xi):
        def channel(c):
            return jax.scipy.ndimage.map_coordinates(c, [yi, xi], order=order, mode=fill_mode, cval=fill_value)

        return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

    out = jax.vmap(one)(images, y_in, x_in)
    if data_format == "channels_first":
        out = jnp.transpose(out, (0, 3, 1, 2))
    return out[0] if squeeze else out


def perspective_transform(
    images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None
):
    """Warp images so that `start_points` (4 corners, `(x, y)`) map to `end_points`."""
    data_format = config.standardize_data_format(data_format)
    _check_interp(interpolation)
    images = _t(images)
    start_points, end_points = _t(start_points).astype("float32"), _t(end_points).astype("float32")
    _check_rank(images)
    for name, p in (("start_points", start_points), ("end_points", end_points)):
        if p.shape[-2:] != (4, 2) or p.ndim not in (2, 3):
            raise ValueError(
                f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a batch. Received shape: {p.shape}"
            )
    if start_points.shape != end_points.shape:
        raise ValueError(
            "start_points and end_points must have the same shape. "
            f"Received start_points.shape={start_points.shape}, end_points.shape={end_points.shape}"
        )
    if start_points.ndim == 2:
        start_points, end_points = start_points[None], end_points[None]
    sx, sy = start_points[..., 0], start_points[..., 1]
    ex, ey = end_points[..., 0], end_points[..., 1]
    z, o = jnp.zeros_like(ex), jnp.ones_like(ex)
    rows_x = jnp.stack([ex, ey, o, z, z, z, -sx * ex, -sx * ey], axis=-1)
    rows_y = jnp.stack([z, z, z, ex, ey, o, -sy * ex, -sy * ey], axis=-1)
    A = jnp.concatenate([rows_x, rows_y], axis=1)
    rhs = jnp.concatenate([sx, sy], axis=-1)[..., None]
    transforms = jnp.linalg.solve(A, rhs)[..., 0]
    return affine_transform(
        images, transforms, interpolation=interpolation, fill_mode="constant", fill_value=fill_value, data_format=data_format
    )


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Sample `inputs` at `coordinates` (first axis indexes the input dims)."""
    inputs = _t(inputs)
    coordinates = _t(coordinates)
    if coordinates.shape[0] != inputs.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. "
            f"Received inputs with shape: {inputs.shape} and coordinate leading dim of {coordinates.shape[0]}"
        )
    if coordinates.ndim < 2:
        raise ValueError(f"Invalid coordinates rank: expected at least rank 2. Received input with shape: {coordinates.shape}")
    _check_fill(fill_mode)
    if order not in (0, 1):
        raise ValueError(f"Invalid value for argument `order`. Expected one of [0, 1]. Received: order={order}")
    return jax.scipy.ndimage.map_coordinates(inputs, list(coordinates), order, fill_mode, fill_value)


def _patches(images, size, strides, dilation_rate, padding, data_format, n):
    from keras_on_jax.ops.nn import conv

    data_format = config.standardize_data_format(data_format)
    images = _t(images)
    size = (size,) * n if isinstance(size, int) else tuple(size)
    if len(size) != n:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length {n}. Received: size={size}")
    if not strides:
        strides = size
    channels = images.shape[-1] if data_format == "channels_last" else images.shape[-(n + 1)]
    out_dim = math.prod(size) * channels
    kernel = jnp.eye(out_dim, dtype=images.dtype).reshape(*size, channels, out_dim)
    unbatched = images.ndim == n + 1
    if unbatched:
        images = images[None]
    out = conv(images, kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate)
    return out[0] if unbatched else out


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Extract `size` patches into the channel axis (3-tuple `size` extracts 3D patches)."""
    n = 3 if (not isinstance(size, int) and len(size) == 3) else 2
    return _patches(images, size, strides, dilation_rate, padding, data_format, n)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Extract 3D patches from volumes into the channel axis."""
    # Through `extract_patches` with a 3-tuple size: one op class (ExtractPatches), as in Keras.
    size = (size,) * 3 if isinstance(size, int) else size
    strides = (strides,) * 3 if isinstance(strides, int) else strides
    return extract_patches(volumes, size, strides, dilation_rate, padding, data_format)


def _check_two_of(a, b, c, names):
    if [a, b, c].count(None) != 1:
        raise ValueError(
            f"Must specify exactly two of {', '.join(names)}. Received: "
            + ", ".join(f"{n}={v}" for n, v in zip(names, (a, b, c)))
        )
    for n, v in zip(names, (a, b, c)):
        if v is not None and v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Zero-pad images to a target size or by explicit amounts."""
    data_format = config.standardize_data_format(data_format)
    images = _t(images)
    _check_rank(images)
    _check_two_of(top_padding, bottom_padding, target_height, ("top_padding", "bottom_padding", "target_height"))
    _check_two_of(left_padding, right_padding, target_width, ("left_padding", "right_padding", "target_width"))
    height, width = _hw(images, data_format)
    if top_padding is None:
        top_padding = target_height - bottom_padding - height
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - height
    if left_padding is None:
        left_padding = target_width - right_padding - width
    if right_padding is None:
        right_padding = target_width - left_padding - width
    for n, v in (("top_padding", top_padding), ("bottom_padding", bottom_padding), ("left_padding", left_padding), ("right_padding", right_padding)):
        if v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")
    pad = [(top_padding, bottom_padding), (left_padding, right_padding)]
    pad = pad + [(0, 0)] if data_format == "channels_last" else [(0, 0)] + pad
    if images.ndim == 4:
        pad = [(0, 0)] + pad
    return jnp.pad(images, pad)


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Crop images to a target size or by explicit amounts."""
    data_format = config.standardize_data_format(data_format)
    images = _t(images)
    _check_rank(images)
    _check_two_of(top_cropping, bottom_cropping, target_height, ("top_cropping", "bottom_cropping", "target_height"))
    _check_two_of(left_cropping, right_cropping, target_width, ("left_cropping", "right_cropping", "target_width"))
    height, width = _hw(images, data_format)
    if top_cropping is None:
        top_cropping = height - target_height - bottom_cropping
    if target_height is None:
        target_height = height - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = width - target_width - right_cropping
    if target_width is None:
        target_width = width - right_cropping - left_cropping
    for n, v in (("top_cropping", top_cropping), ("target_height", target_height), ("left_cropping", left_cropping), ("target_width", target_width)):
        if v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")
    h_axis = images.ndim - 3 if data_format == "channels_last" else images.ndim - 2
    images = jax.lax.slice_in_dim(images, top_cropping, top_cropping + target_height, axis=h_axis)
    return jax.lax.slice_in_dim(images, left_cropping, left_cropping + target_width, axis=h_axis + 1)


def _gaussian_kernel_1d(size, sigma, dtype):
    x = jnp.arange(size, dtype=dtype) - jnp.asarray((size - 1) / 2, dtype)
    k = jnp.exp(-0.5 * (x / sigma) ** 2)
    return k / jnp.sum(k)


def _depthwise_nchw(images, kernel_hw):
    c = images.shape[1]
    kernel = jnp.tile(kernel_hw[None, None], (c, 1, 1, 1))
    return jax.lax.conv_general_dilated(
        images, kernel, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"), feature_group_count=c
    )


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur images with a Gaussian kernel (`SAME` padding)."""
    data_format = config.standardize_data_format(data_format)
    images = _t(images)
    _check_rank(images)
    dtype = images.dtype
    sigma = _t(sigma).astype(dtype)
    squeeze = images.ndim == 3
    if squeeze:
        images = images[None]
    if data_format == "channels_last":
        images = jnp.transpose(images, (0, 3, 1, 2))
    kx = _gaussian_kernel_1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_kernel_1d(kernel_size[1], sigma[1], dtype)
    out = _depthwise_nchw(images, jnp.outer(ky, kx))
    if data_format == "channels_last":
        out = jnp.transpose(out, (0, 2, 3, 1))
    return out[0] if squeeze else out


def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """Random elastic deformation: Gaussian-smoothed random displacement fields."""
    from keras_on_jax.backend.random import draw_seed

    data_format = config.standardize_data_format(data_format)
    _check_interp(interpolation)
    _check_fill(fill_mode)
    images = _t(images)
    _check_rank(images)
    dtype = images.dtype
    squeeze = images.ndim == 3
    if squeeze:
        images = images[None]
    if data_format == "channels_first":
        images = jnp.transpose(images, (0, 2, 3, 1))
    batch, height, width, channels = images.shape
    ksize = int(6 * float(sigma)) | 1
    key = draw_seed(seed)
    dx = jax.random.normal(key, (batch, height, width), dtype=dtype) * sigma
    dy = jax.random.normal(key, (batch, height, width), dtype=dtype) * sigma
    dx = gaussian_blur(dx[..., None], (ksize, ksize), (sigma, sigma), "channels_last")[..., 0]
    dy = gaussian_blur(dy[..., None], (ksize, ksize), (sigma, sigma), "channels_last")[..., 0]
    x, y = jnp.meshgrid(jnp.arange(width), jnp.arange(height))
    xs = x[None] + alpha * dx
    ys = y[None] + alpha * dy
    order = AFFINE_TRANSFORM_INTERPOLATIONS[interpolation]

    def one(image, yi, xi):
        def channel(c):
            return jax.scipy.ndimage.map_coordinates(c, [yi, xi], order=order, mode=fill_mode, cval=fill_value)

        return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

    out = jax.vmap(one)(images, ys, xs).astype(dtype)
    if data_format == "channels_first":
        out = jnp.transpose(out, (0, 3, 1, 2))
    return out[0] if squeeze else out


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """`jax.image.scale_and_translate` with Keras's argument order."""
    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError(
            f"Invalid value for argument `method`. Expected of one {SCALE_AND_TRANSLATE_METHODS}. Received: method={method}"
        )
    return jax.image.scale_and_translate(
        _t(images), output_shape, spatial_dims, _t(scale), _t(translation), method, antialias
    )


def sobel_edges(images, data_format=None):
    """Sobel edge maps; output has a trailing axis of size 2 holding `[dy, dx]`."""
    data_format = config.standardize_data_format(data_format)
    images = _t(images)
    if data_format != "channels_first":
        images = jnp.transpose(images, (0, 3, 1, 2))
    sx = jnp.asarray([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], images.dtype)
    ex = _depthwise_nchw(images, sx)
    ey = _depthwise_nchw(images, sx.T)
    if data_format != "channels_first":
        ex, ey = jnp.transpose(ex, (0, 2, 3, 1)), jnp.transpose(ey, (0, 2, 3, 1))
    return jnp.stack([ey, ex], axis=-1)


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """Structural similarity index between two images (mean over space and channels)."""
    data_format = config.standardize_data_format(data_format)
    image1, image2 = _t(image1), _t(image2)
    ori = image1.dtype
    compute = jnp.promote_types(ori, jnp.float32)
    image1, image2 = image1.astype(compute), image2.astype(compute)
    _check_rank(image1, "image1")
    _check_rank(image2, "image2")
    unbatched = image1.ndim == 3
    if unbatched:
        image1, image2 = image1[None], image2[None]
    if data_format == "channels_first":
        image1, image2 = jnp.moveaxis(image1, 1, -1), jnp.moveaxis(image2, 1, -1)
    b, h, w, c = image1.shape
    g = jnp.arange(filter_size, dtype=compute) - (filter_size - 1) / 2.0
    g = jnp.exp(-(g**2) / (2.0 * filter_sigma**2))
    g = g / jnp.sum(g)
    kernel = jnp.outer(g, g).reshape(filter_size, filter_size, 1, 1)

    def blur(x):
        return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    i1 = jnp.transpose(image1, (0, 3, 1, 2)).reshape(-1, h, w, 1)
    i2 = jnp.transpose(image2, (0, 3, 1, 2)).reshape(-1, h, w, 1)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = blur(i1), blur(i2)
    s1 = blur(i1 * i1) - mu1 * mu1
    s2 = blur(i2 * i2) - mu2 * mu2
    s12 = blur(i1 * i2) - mu1 * mu2
    ssim_map = ((2.0 * mu1 * mu2 + c1) * (2.0 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s1 + s2 + c2))
    result = jnp.mean(jnp.mean(ssim_map, axis=(1, 2, 3)).reshape(b, c), axis=-1)
    return (result[0] if unbatched else result).astype(ori)


__all__ = [
    'affine_transform', 'crop_images', 'elastic_transform', 'extract_patches',
    'extract_patches_3d', 'gaussian_blur', 'hsv_to_rgb', 'map_coordinates', 'pad_images',
    'perspective_transform', 'resize', 'rgb_to_grayscale', 'rgb_to_hsv', 'scale_and_translate',
    'sobel_edges', 'ssim',
]


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "image")
