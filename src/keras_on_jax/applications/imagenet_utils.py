"""keras.applications.imagenet_utils: preprocessing, decoding and the helpers every
application shares (input shape checks, padding, pretrained-weights lookup)."""

import json
import os
import warnings

import jax.numpy as jnp
import numpy as np

from keras_on_jax import activations
from keras_on_jax.backend import config

CLASS_INDEX = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
_CLASS_INDEX_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                                 "imagenet_class_index.json")

PREPROCESS_INPUT_DOC = """Preprocesses a tensor or NumPy array encoding a batch of images.

    Args:
        x: A floating point NumPy array or a JAX array, 3D or 4D with 3 color channels,
            with values in the range [0, 255]. NumPy float arrays are modified in place.
        data_format: `"channels_first"`, `"channels_last"` or `None` (the global
            `keras.backend.image_data_format()`).{mode}

    Returns:
        Preprocessed array with type `float32`.{ret}
    """

PREPROCESS_INPUT_MODE_DOC = """
        mode: One of "caffe", "tf" or "torch".
            - caffe: convert RGB to BGR, then zero-center each channel with respect to
              the ImageNet dataset, without scaling.
            - tf: scale pixels between -1 and 1, sample-wise.
            - torch: scale pixels between 0 and 1 and normalize each channel with
              respect to the ImageNet dataset.
            Defaults to `"caffe"`."""

PREPROCESS_INPUT_RET_DOC_TF = """
        The input pixel values are scaled between -1 and 1, sample-wise."""
PREPROCESS_INPUT_RET_DOC_TORCH = """
        The input pixel values are scaled between 0 and 1 and each channel is normalized
        with respect to the ImageNet dataset."""
PREPROCESS_INPUT_RET_DOC_CAFFE = """
        The images are converted from RGB to BGR, then each color channel is
        zero-centered with respect to the ImageNet dataset, without scaling."""


def preprocess_input(x, data_format=None, mode="caffe"):
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy_input(x, data_format=data_format, mode=mode)
    return _preprocess_tensor_input(x, data_format=data_format, mode=mode)


preprocess_input.__doc__ = PREPROCESS_INPUT_DOC.format(mode=PREPROCESS_INPUT_MODE_DOC, ret="")

_CAFFE_MEAN = [103.939, 116.779, 123.68]
_TORCH_MEAN = [0.485, 0.456, 0.406]
_TORCH_STD = [0.229, 0.224, 0.225]


def _preprocess_numpy_input(x, data_format, mode):
    # Same arithmetic, order and in-place behaviour as Keras.
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        if data_format == "channels_first":
            x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
        else:
            x = x[..., ::-1]
        mean, std = _CAFFE_MEAN, None
    for c in range(3):
        if data_format == "channels_first":
            idx = (c, slice(None), slice(None)) if x.ndim == 3 else (slice(None), c)
        else:
            idx = (Ellipsis, c)
        x[idx] -= mean[c]
        if std is not None:
            x[idx] /= std[c]
    return x


def _preprocess_tensor_input(x, data_format, mode):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(config.floatx())
    ndim = x.ndim
    if mode == "tf":
        x = x / 127.5
        return x - 1.0
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        if data_format == "channels_first":
            x = jnp.flip(x, axis=0 if ndim == 3 else 1)
        else:
            x = jnp.flip(x, axis=-1)
        mean, std = _CAFFE_MEAN, None
    mean_t = jnp.asarray(-np.array(mean), dtype=x.dtype)
    if data_format == "channels_first":
        shape = (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    else:
        shape = (1,) * (ndim - 1) + (3,)
    x = x + mean_t.reshape(shape)
    if std is not None:
        std_t = jnp.asarray(np.array(std), dtype=x.dtype)
        # Keras reshapes std to (-1, 1, 1) in both layouts; keep that broadcasting.
        if data_format == "channels_first":
            std_t = std_t.reshape((-1, 1, 1))
        x = x / std_t
    return x


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        path = _CLASS_INDEX_FILE
        if not os.path.exists(path):
            path = os.path.join(config.keras_home(), "models", "imagenet_class_index.json")
        if not os.path.exists(path):
            raise FileNotFoundError(
                "decode_predictions needs the ImageNet class index `imagenet_class_index.json`"
                f", which ships with keras_on_jax at {_CLASS_INDEX_FILE} but was not found "
                f"there. Put a copy (from {CLASS_INDEX_PATH}) at {path}."
            )
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """Decodes the prediction of an ImageNet model.

    Args:
        preds: NumPy array encoding a batch of predictions, shape `(samples, 1000)`.
        top: Integer, how many top-guesses to return. Defaults to `5`.

    Returns:
        A list of lists of top class prediction tuples
        `(class_name, class_description, score)`, one list per sample.

    Raises:
        ValueError: In case of invalid shape of the `preds` array (must be 2D).
    """
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D "
                         "array of shape (samples, 1000)). Received array with shape: "
                         f"{preds.shape}")
    index = _class_index()
    preds = np.asarray(preds)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda x: x[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """Compute/validate a model's input shape (Keras's rules and messages)."""
    cf = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if cf else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {channels} input channels.",
                          stacklevel=3)
        default_shape = ((input_shape[0], default_size, default_size) if cf
                         else (default_size, default_size, input_shape[-1]))
    else:
        default_shape = (3, default_size, default_size) if cf else (default_size,
                                                                    default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}.  "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers. "
                             f"Received: input_shape={input_shape}")
        channels = input_shape[0] if cf else input_shape[-1]
        spatial = input_shape[1:] if cf else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape="
                             f"{input_shape}`")
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    else:
        if require_flatten:
            input_shape = default_shape
        else:
            input_shape = (3, None, None) if cf else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static "
                         f"`input_shape`. Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """Zero-padding ((top, bottom), (left, right)) for a strided 2D convolution."""
    img_dim = 2 if config.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim:img_dim + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Only `None` and `softmax` may be used with pretrained weights."""
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, "
                         "with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")


# ----------------------------------------------------------------------------------------
# Shared helpers for the application builders (private).


def _check_weights_arg(weights, include_top, classes):
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike))
                                              and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded.  Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")


def _make_input(input_tensor, input_shape):
    from keras_on_jax import layers
    from keras_on_jax.backend.keras_tensor import is_keras_tensor

    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def _model_inputs(input_tensor, img_input):
    if input_tensor is not None:
        from keras_on_jax.utils import get_source_inputs

        return get_source_inputs(input_tensor)
    return img_input


def get_pretrained_file(fname, origin, file_hash=None):
    """Path of a published weights file `fname` under `<keras home>/models/`.

    A file already there is used as it is (its hash is not checked, so locally converted or
    re-saved files load). Otherwise the file is downloaded from `origin` with `get_file`
    and checked against `file_hash`; when that fails (offline), the error says where to
    put the file.
    """
    local = os.path.join(config.keras_home(), "models", fname)
    if os.path.exists(local):
        return local
    from keras_on_jax.utils import get_file

    try:
        return get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
    except Exception as e:
        raise OSError(
            f"Could not obtain the pretrained weights file '{fname}': downloading it from "
            f"{origin} failed ({e}). Without network access, download it elsewhere and put it "
            f"at {local} (the `models/` folder of the Keras home, `KERAS_HOME` or ~/.keras), "
            "or pass its path as `weights=`."
        ) from e


def _load(model, weights, fname, origin, file_hash=None):
    if weights == "imagenet":
        model.load_weights(get_pretrained_file(fname, origin, file_hash))
    elif weights is not None:
        model.load_weights(weights)
    return model


def module_functions(mode, module):
    """The `preprocess_input` and `decode_predictions` of an application module whose
    inputs are scaled in `mode` ("tf", "torch" or "caffe"), with Keras's docstrings."""
    ret = {"tf": PREPROCESS_INPUT_RET_DOC_TF, "torch": PREPROCESS_INPUT_RET_DOC_TORCH,
           "caffe": PREPROCESS_INPUT_RET_DOC_CAFFE}[mode]
    scale, decode = preprocess_input, decode_predictions

    def module_preprocess_input(x, data_format=None):
        return scale(x, data_format=data_format, mode=mode)

    def module_decode_predictions(preds, top=5):
        return decode(preds, top=top)

    module_preprocess_input.__doc__ = PREPROCESS_INPUT_DOC.format(mode="", ret=ret)
    module_decode_predictions.__doc__ = decode_predictions.__doc__
    for fn, name in ((module_preprocess_input, "preprocess_input"),
                     (module_decode_predictions, "decode_predictions")):
        fn.__name__ = fn.__qualname__ = name
        fn.__module__ = module
    return module_preprocess_input, module_decode_predictions
