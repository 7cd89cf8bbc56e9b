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
from keras_on_jax.utils.io_utils import disable_interactive_logging as disable_interactive_logging
from keras_on_jax.utils.io_utils import enable_interactive_logging as enable_interactive_logging
from keras_on_jax.utils.io_utils import is_interactive_logging_enabled as is_interactive_logging_enabled
from keras_on_jax.io.serialization import CustomObjectScope as CustomObjectScope
from keras_on_jax.io.serialization import custom_object_scope as custom_object_scope
from keras_on_jax.io.serialization import deserialize_keras_object as deserialize_keras_object
from keras_on_jax.io.serialization import get_custom_objects as get_custom_objects
from keras_on_jax.io.serialization import get_registered_name as get_registered_name
from keras_on_jax.io.serialization import get_registered_object as get_registered_object
from keras_on_jax.io.serialization import register_keras_serializable as register_keras_serializable
from keras_on_jax.io.serialization import serialize_keras_object as serialize_keras_object
from keras_on_jax.backend.dtypes import standardize_dtype as standardize_dtype
from keras_on_jax.backend.keras_tensor import is_keras_tensor as is_keras_tensor
from keras_on_jax.utils.general import get_source_inputs as get_source_inputs
