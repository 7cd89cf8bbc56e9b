"""`keras.utils.timeseries_dataset_from_array` without TensorFlow."""

from __future__ import annotations

import numpy as np

from keras_on_jax.utils.dataset_utils import NumpyDataset


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Sliding windows over a timeseries array, as a dataset of batches.

    Sample `i` is `data[start_index + p_i : ... : sampling_rate]` (`sequence_length`
    steps), where the window starts are `p = 0, sequence_stride, 2 * sequence_stride,
    ...` for as long as a full window fits before `end_index`; its target is
    `targets[start_index + p_i]`. Returns a `NumpyDataset` yielding `sequences`
    (`(batch, sequence_length, ...)`, the dtype of `data`) or `(sequences, targets)`;
    `batch_size=None` yields single samples. With `shuffle=True` the window starts are
    shuffled with `seed` (as Keras), and the order is drawn anew for each pass.
    `format` is accepted for signature compatibility.
    """
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= len(data):
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {len(data)}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= len(data):
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {len(data)}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= len(data):
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. Received: "
            f"sampling_rate={sampling_rate}, for data of length {len(data)}"
        )
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= len(data):
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. Received: "
            f"sequence_stride={sequence_stride}, for data of length {len(data)}"
        )
    if format not in ("numpy", "tf", "grain"):
        raise ValueError(f'`format` should be one of "numpy", "tf" or "grain". '
                         f"Received: format={format}")
    if start_index is None:
        start_index = 0
    if end_index is None:
        end_index = len(data)
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    start_positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype="int64")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(start_positions)
    data_slice = np.asarray(data[start_index:end_index])
    target_slice = None if targets is None else np.asarray(targets[start_index:end_index])
    offsets = np.arange(sequence_length, dtype="int64") * sampling_rate

    def load(indices):
        positions = start_positions[np.asarray(indices, dtype="int64")]
        sequences = data_slice[positions[:, None] + offsets[None, :]]
        if target_slice is None:
            return sequences
        return sequences, target_slice[positions]

    return NumpyDataset(len(start_positions), load, batch_size=batch_size, shuffle=shuffle,
                        seed=seed)
