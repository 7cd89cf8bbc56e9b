"""keras.datasets: small standard datasets downloaded (once) through `get_file`."""

from keras_on_jax.datasets import boston_housing as boston_housing
from keras_on_jax.datasets import california_housing as california_housing
from keras_on_jax.datasets import cifar10 as cifar10
from keras_on_jax.datasets import cifar100 as cifar100
from keras_on_jax.datasets import fashion_mnist as fashion_mnist
from keras_on_jax.datasets import imdb as imdb
from keras_on_jax.datasets import mnist as mnist
from keras_on_jax.datasets import reuters as reuters
