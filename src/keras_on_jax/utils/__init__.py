"""keras.utils: seeds, files, data helpers, progress bar, serialization shortcuts."""

from keras_on_jax.utils.file_utils import get_file as get_file
from keras_on_jax.utils.file_utils import validate_file as validate_file
from keras_on_jax.utils.general import clear_session as clear_session
from keras_on_jax.utils.general import normalize as normalize
from keras_on_jax.utils.general import set_random_seed as set_random_seed
from keras_on_jax.utils.general import to_categorical as to_categorical
from keras_on_jax.utils.progbar import Progbar as Progbar
from keras_on_jax.utils.py_dataset import PyDataset as PyDataset
from keras_on_jax.utils.py_dataset import Sequence as Sequence
from keras_on_jax.training.data_adapters import pack_x_y_sample_weight as pack_x_y_sample_weight
from keras_on_jax.training.data_adapters import unpack_x_y_sample_weight as unpack_x_y_sample_weight
