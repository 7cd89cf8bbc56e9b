"""Image files ↔ arrays with Pillow: `load_img`, `img_to_array`, `array_to_img`,
`save_img`, `smart_resize`, and the resize used by `image_dataset_from_directory`."""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np

from keras_on_jax.backend import config

try:
    from PIL import Image as pil_image

    pil_image_resampling = getattr(pil_image, "Resampling", pil_image)
except ImportError:  # pragma: no cover - Pillow is a dependency
    pil_image = None
    pil_image_resampling = None

if pil_image_resampling is not None:
    PIL_INTERPOLATION_METHODS = {
        "nearest": pil_image_resampling.NEAREST,
        "bilinear": pil_image_resampling.BILINEAR,
        "bicubic": pil_image_resampling.BICUBIC,
        "hamming": pil_image_resampling.HAMMING,
        "box": pil_image_resampling.BOX,
        "lanczos": pil_image_resampling.LANCZOS,
    }
else:  # pragma: no cover
    PIL_INTERPOLATION_METHODS = {}

# The interpolations of Keras's JAX-backend `ops.image.resize`.
_RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def _require_pil(what):
    if pil_image is None:
        raise ImportError(f"Could not import PIL.Image. The use of `{what}` requires PIL.")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Convert a 3D array `(height, width, channels)` to a PIL Image."""
    data_format = config.standardize_data_format(data_format)
    if dtype is None:
        dtype = config.floatx()
    _require_pil("array_to_img")
    x = np.array(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    if x.shape[2] == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    if x.shape[2] == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    if x.shape[2] == 1:
        if np.max(x) > 255:
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {x.shape[2]}")


def img_to_array(img, data_format=None, dtype=None):
    """Convert a PIL Image to a 3D NumPy array."""
    data_format = config.standardize_data_format(data_format)
    if dtype is None:
        dtype = config.floatx()
    x = np.asarray(img, dtype=dtype)
    if len(x.shape) == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif len(x.shape) == 2:
        if data_format == "channels_first":
            x = x.reshape((1, x.shape[0], x.shape[1]))
        else:
            x = x.reshape((x.shape[0], x.shape[1], 1))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an image array to a path or file object (format from the extension)."""
    data_format = config.standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _convert_mode(img, color_mode):
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba". '
                         f"Received: color_mode={color_mode}")
    return img


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file into a PIL Image (optionally resized with Pillow)."""
    _require_pil("load_img")
    if isinstance(path, io.BytesIO):
        img = pil_image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = pil_image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    img = _convert_mode(img, color_mode)
    if target_size is not None:
        width_height = (target_size[1], target_size[0])
        if img.size != width_height:
            if interpolation not in PIL_INTERPOLATION_METHODS:
                raise ValueError(
                    f"Invalid interpolation method {interpolation} specified. Supported "
                    f"methods are {', '.join(PIL_INTERPOLATION_METHODS.keys())}"
                )
            resample = PIL_INTERPOLATION_METHODS[interpolation]
            if keep_aspect_ratio:
                width, height = img.size
                target_width, target_height = width_height
                crop_height = min(height, (width * target_height) // target_width)
                crop_width = min(width, (height * target_width) // target_height)
                hstart = (height - crop_height) // 2
                wstart = (width - crop_width) // 2
                box = [wstart, hstart, wstart + crop_width, hstart + crop_height]
                img = img.resize(width_height, resample, box=box)
            else:
                img = img.resize(width_height, resample)
    return img


# --------------------------------------------------------------------------------------
# Resizing (Keras's `ops.image.resize` on the JAX backend, run on the host CPU)
# --------------------------------------------------------------------------------------


def _triangle_kernel(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic_kernel(x):
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos_kernel(radius):
    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x > 1e-3, y / np.where(x != 0, np.pi ** 2 * x ** 2, 1.0), 1.0)
        return np.where(x > radius, 0.0, out)

    return kernel


_KERNELS = {
    "bilinear": _triangle_kernel,
    "bicubic": _keys_cubic_kernel,
    "lanczos3": _lanczos_kernel(3.0),
    "lanczos5": _lanczos_kernel(5.0),
}


def _weight_matrix(input_size, output_size, kernel):
    """The `(input_size, output_size)` resampling weights of `jax.image.resize`
    (half-pixel centers, no antialiasing, normalized, zero outside the image)."""
    inv_scale = input_size / output_size
    sample_f = (np.arange(output_size, dtype="float64") + 0.5) * inv_scale - 0.5
    x = np.abs(sample_f[None, :] - np.arange(input_size, dtype="float64")[:, None])
    weights = kernel(x)
    total = np.sum(weights, axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                       weights / np.where(total != 0, total, 1.0), 0.0)
    inside = (sample_f >= -0.5) & (sample_f <= input_size - 0.5)
    return np.where(inside[None, :], weights, 0.0)


def _resize_axes(img, out_hw, hw_axes, interpolation):
    """Resize `img` along its two spatial axes with NumPy (the math of
    `jax.image.resize(..., antialias=False)`, without a compilation per image size)."""
    for axis, n in zip(hw_axes, out_hw):
        m = img.shape[axis]
        if m == n:
            continue
        if interpolation == "nearest":
            offsets = ((np.arange(n, dtype=np.float32) + np.float32(0.5)) * np.float32(m)
                       / np.float32(n))
            img = np.take(img, np.floor(offsets).astype(np.int64), axis=axis)
        else:
            w = _weight_matrix(m, n, _KERNELS[interpolation])
            img = np.moveaxis(np.tensordot(np.moveaxis(img, axis, -1).astype("float64"), w,
                                           axes=([-1], [0])), -1, axis)
    return img


def resize_image(img, size, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_value=0.0, data_format="channels_last"):
    """Resize one image `(H, W, C)` / `(C, H, W)` to `size` as Keras's JAX backend
    `ops.image.resize` does (`jax.image.resize` without antialiasing, with its
    crop/pad-to-aspect-ratio rules), computed with NumPy on the host."""
    if interpolation not in _RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one "
            f"{_RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
                         "`True`.")
    img = np.asarray(img)
    target_height, target_width = (int(s) for s in size)
    channels_last = data_format == "channels_last"
    height, width = (img.shape[0], img.shape[1]) if channels_last else (img.shape[1], img.shape[2])

    def hw_slice(h0, h1, w0, w1):
        return img[h0:h1, w0:w1, :] if channels_last else img[:, h0:h1, w0:w1]

    if crop_to_aspect_ratio:
        crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
        crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
        hstart = int(float(height - crop_height) / 2)
        wstart = int(float(width - crop_width) / 2)
        img = hw_slice(hstart, hstart + crop_height, wstart, wstart + crop_width)
    elif pad_to_aspect_ratio:
        pad_height = max(height, int(float(width * target_height) / target_width))
        pad_width = max(width, int(float(height * target_width) / target_height))
        hstart = int(float(pad_height - height) / 2)
        wstart = int(float(pad_width - width) / 2)
        h_axis, w_axis = (0, 1) if channels_last else (1, 2)
        pads = [(0, 0)] * 3
        if hstart > 0:
            pads[h_axis] = (hstart, hstart)
        elif wstart > 0:
            pads[w_axis] = (wstart, wstart)
        img = np.pad(img, pads, mode="constant", constant_values=fill_value)
    height, width = (img.shape[0], img.shape[1]) if channels_last else (img.shape[1], img.shape[2])
    if (height, width) == (target_height, target_width):
        return np.array(img)
    dtype = img.dtype if np.issubdtype(img.dtype, np.floating) else np.dtype("float32")
    hw_axes = (0, 1) if channels_last else (1, 2)
    return _resize_axes(img, (target_height, target_width), hw_axes,
                        interpolation).astype(dtype)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resize images to `size` without aspect-ratio distortion (center crop, then resize).

    `x`: `(height, width, channels)` or `(batch, height, width, channels)` (channels
    first with `data_format="channels_first"`). Returns a NumPy array for NumPy input,
    else a JAX array.
    """
    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs.keys())}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    arr = np.asarray(x)
    if arr.ndim < 3 or arr.ndim > 4:
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, of "
            f"shape {arr.shape}."
        )
    if arr.ndim == 4:
        out = np.stack([resize_image(a, size, interpolation, crop_to_aspect_ratio=True,
                                     data_format=data_format) for a in arr])
    else:
        out = resize_image(arr, size, interpolation, crop_to_aspect_ratio=True,
                           data_format=data_format)
    if isinstance(x, np.ndarray):
        return out
    import jax.numpy as jnp

    return jnp.asarray(out)
