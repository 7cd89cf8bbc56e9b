"""Recurrent layers: SimpleRNN, LSTM, GRU and their cells, RNN, StackedRNNCells,
Bidirectional, TimeDistributed, ConvLSTM1D/2D/3D."""

from keras_on_jax.layers.rnn.bidirectional import Bidirectional
from keras_on_jax.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from keras_on_jax.layers.rnn.gru import GRU, GRUCell
from keras_on_jax.layers.rnn.lstm import LSTM, LSTMCell
from keras_on_jax.layers.rnn.rnn import RNN
from keras_on_jax.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from keras_on_jax.layers.rnn.stacked_rnn_cells import StackedRNNCells
from keras_on_jax.layers.rnn.time_distributed import TimeDistributed

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell",
           "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells",
           "TimeDistributed"]
