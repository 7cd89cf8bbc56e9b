"""`keras.distribute`: TensorFlow's distribution spellings on `jax.sharding`.

MirroredStrategy, MultiWorkerMirroredStrategy (TF_CONFIG, `jax.distributed`),
TPUStrategy, cluster resolvers, `device(name)` scopes and sharded Orbax checkpoints.
Keras 3's own API (`DeviceMesh`, `LayoutMap`, `DataParallel`, `ModelParallel`) lives in
`keras_on_jax.distribution` and shares the same machinery (`distribution_lib`).
"""

from keras_on_jax.distribute import cluster_resolver as cluster_resolver
from keras_on_jax.distribute import experimental as experimental
from keras_on_jax.distribute.checkpoint import restore_sharded as restore_sharded
from keras_on_jax.distribute.checkpoint import save_sharded as save_sharded
from keras_on_jax.distribute.cluster_resolver import (
    experimental_connect_to_cluster as experimental_connect_to_cluster,
)
from keras_on_jax.distribute.cluster_resolver import initialize_tpu_system as initialize_tpu_system
from keras_on_jax.distribute.device import device as device
from keras_on_jax.distribute.device import list_physical_devices as list_physical_devices
from keras_on_jax.distribute.strategies import InputContext as InputContext
from keras_on_jax.distribute.strategies import MirroredStrategy as MirroredStrategy
from keras_on_jax.distribute.strategies import (
    MultiWorkerMirroredStrategy as MultiWorkerMirroredStrategy,
)
from keras_on_jax.distribute.strategies import Strategy as Strategy
from keras_on_jax.distribute.strategies import TPUStrategy as TPUStrategy
from keras_on_jax.distribute.strategies import is_chief as is_chief


def get_strategy():
    """The active strategy or distribution (None outside any scope)."""
    from keras_on_jax.distribute import context

    return context.current()


def has_strategy():
    return get_strategy() is not None
