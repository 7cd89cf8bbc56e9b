"""keras.layers: every layer family, plus the Layer base and InputSpec."""

from keras_on_jax.layers.core.dense import Dense as Dense
from keras_on_jax.layers.core.input_layer import Input as Input
from keras_on_jax.layers.core.input_layer import InputLayer as InputLayer
from keras_on_jax.layers.input_spec import InputSpec as InputSpec
from keras_on_jax.layers.layer import Layer as Layer
