"""Core layers: Dense, EinsumDense, Embedding, ReversibleEmbedding, Identity, Input/InputLayer, Lambda, Masking,
Wrapper."""

from keras_on_jax.layers.core.dense import Dense
from keras_on_jax.layers.core.einsum_dense import EinsumDense
from keras_on_jax.layers.core.embedding import Embedding
from keras_on_jax.layers.core.reversible_embedding import ReversibleEmbedding
from keras_on_jax.layers.core.identity import Identity
from keras_on_jax.layers.core.input_layer import Input, InputLayer
from keras_on_jax.layers.core.lambda_layer import Lambda
from keras_on_jax.layers.core.masking import Masking
from keras_on_jax.layers.core.wrapper import Wrapper

__all__ = ["Dense", "EinsumDense", "Embedding", "ReversibleEmbedding", "Identity", "Input", "InputLayer", "Lambda",
           "Masking", "Wrapper"]
