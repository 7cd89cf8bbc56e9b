"""`keras.optimizers`: Keras 3's optimizers, with Optax transformations as the engine.

`get`, `serialize` and `deserialize` follow Keras 3 (case-insensitive class names;
the `{"module", "class_name", "config", "registered_name"}` envelope), and `get` also
accepts any `optax.GradientTransformation`, wrapped in an `OptaxOptimizer`.
"""

from __future__ import annotations

from keras_on_jax.optimizers import schedules
from keras_on_jax.optimizers.adadelta import Adadelta
from keras_on_jax.optimizers.adafactor import Adafactor
from keras_on_jax.optimizers.adagrad import Adagrad
from keras_on_jax.optimizers.adam import Adam
from keras_on_jax.optimizers.adamax import Adamax
from keras_on_jax.optimizers.adamw import AdamW
from keras_on_jax.optimizers.base_optimizer import Optimizer
from keras_on_jax.optimizers.ftrl import Ftrl
from keras_on_jax.optimizers.lamb import Lamb
from keras_on_jax.optimizers.lion import Lion
from keras_on_jax.optimizers.loss_scale_optimizer import LossScaleOptimizer
from keras_on_jax.optimizers.nadam import Nadam
from keras_on_jax.optimizers.optax_optimizer import OptaxOptimizer, is_optax_transformation
from keras_on_jax.optimizers.rmsprop import RMSprop
from keras_on_jax.optimizers.sgd import SGD

ALL_OBJECTS = {
    Optimizer,
    Adam,
    SGD,
    RMSprop,
    Adadelta,
    AdamW,
    Adagrad,
    Adamax,
    Adafactor,
    Nadam,
    Ftrl,
    Lion,
    Lamb,
    LossScaleOptimizer,
}
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """The optimizer's Keras 3 envelope (`module`, `class_name`, `config`, ...)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"`serialize` expects an `Optimizer` instance. Received: {optimizer!r}"
        )
    cls = type(optimizer)
    builtin = ALL_OBJECTS_DICT.get(cls.__name__.lower()) is cls
    return {
        "module": "keras.optimizers" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": optimizer.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def deserialize(config, custom_objects=None):
    """Rebuild an optimizer from `serialize`'s output (class names are case-insensitive)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "`deserialize` expects a dict with keys 'class_name' and 'config'. "
            f"Received: {config!r}"
        )
    custom_objects = custom_objects or {}
    class_name = config["class_name"]
    cls = None
    for key in (config.get("registered_name"), class_name):
        if key and key in custom_objects:
            cls = custom_objects[key]
            break
    if cls is None:
        cls = ALL_OBJECTS_DICT.get(str(class_name).lower())
    if cls is None:
        raise ValueError(
            f"Could not interpret optimizer identifier: {class_name!r}. Expected one of "
            f"{sorted(ALL_OBJECTS_DICT)} (case-insensitive), an `Optimizer` instance, a "
            "config dict or an `optax.GradientTransformation`."
        )
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name (`"adam"`), a config dict, an instance or an optax
    transformation; `None` gives `None`."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if is_optax_transformation(identifier):
        return OptaxOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Nadam",
    "OptaxOptimizer",
    "Optimizer",
    "RMSprop",
    "SGD",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
