"""keras_on_jax: the Keras API on JAX."""
