"""keras.preprocessing: the directory/array dataset utilities and the `image` and
`sequence` helpers (the same objects as in `keras_on_jax.utils`)."""

from keras_on_jax.preprocessing import image as image
from keras_on_jax.preprocessing import sequence as sequence
from keras_on_jax.utils.image_dataset_utils import (
    image_dataset_from_directory as image_dataset_from_directory,
)
from keras_on_jax.utils.text_dataset_utils import (
    text_dataset_from_directory as text_dataset_from_directory,
)
from keras_on_jax.utils.timeseries_dataset_utils import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)
