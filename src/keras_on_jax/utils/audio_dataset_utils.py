"""`keras.utils.audio_dataset_from_directory` without TensorFlow (WAV via `wave`)."""

from __future__ import annotations

import wave

import numpy as np

from keras_on_jax.utils import dataset_utils

ALLOWED_FORMATS = (".wav",)


def read_wav(path, output_sequence_length=None):
    """A 16-bit PCM WAV file as `float32` `(samples, channels)` in `[-1, 1)` (the values
    of `tf.audio.decode_wav`), truncated or zero-padded to `output_sequence_length`."""
    with wave.open(str(path), "rb") as f:
        width, channels, frames = f.getsampwidth(), f.getnchannels(), f.getnframes()
        raw = f.readframes(frames)
    if width != 2:
        raise ValueError(f"Only 16-bit PCM WAV files can be decoded; {path} has "
                         f"{8 * width}-bit samples.")
    audio = np.frombuffer(raw, dtype="<i2").reshape(-1, channels).astype("float32") / 32768.0
    if output_sequence_length is not None and output_sequence_length >= 0:
        out = np.zeros((output_sequence_length, channels), dtype="float32")
        n = min(output_sequence_length, audio.shape[0])
        out[:n] = audio[:n]
        audio = out
    return audio


def _padded_stack(samples):
    length = max(s.shape[0] for s in samples)
    out = np.zeros((len(samples), length) + samples[0].shape[1:], dtype="float32")
    for i, s in enumerate(samples):
        out[i, :s.shape[0]] = s
    return out


def _ragged_stack(samples):
    out = np.empty((len(samples),), dtype=object)
    out[:] = list(samples)
    return out


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, batch_size=32, sampling_rate=None,
                                 output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True):
    """Generate a dataset of audio batches from the `.wav` files (16-bit PCM) of a
    directory.

    Returns a `NumpyDataset` (a list `[train, validation]` with `subset="both"`)
    yielding `float32` audio `(batch, samples, channels)`: cut or zero-padded to
    `output_sequence_length`, else zero-padded to the longest clip of the batch; with
    `ragged=True`, an `object` array of the clips. Labels as
    `image_dataset_from_directory`. Resampling (`sampling_rate`) needs
    `tensorflow-io` in Keras and is not available here.
    """
    dataset_utils.check_label_args(labels, label_mode, class_names, "audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. "
                             f"Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. "
                             f"Received: sampling_rate={sampling_rate}")
        raise ValueError(
            "Argument `sampling_rate`: resampling audio is not supported by keras_on_jax "
            "(Keras needs tensorflow-io for it). Resample the files beforehand and pass "
            f"`sampling_rate=None`. Received: sampling_rate={sampling_rate}"
        )
    if labels is None or label_mode is None:
        labels = None
        label_mode = None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, formats=ALLOWED_FORMATS, class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose,
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    if ragged:
        stack_fn = _ragged_stack
    elif output_sequence_length is None:
        stack_fn = _padded_stack
    else:
        stack_fn = None

    def load_one(path):
        return read_wav(path, output_sequence_length)

    result = dataset_utils.make_directory_datasets(
        file_paths, labels, label_mode, class_names, validation_split, subset, load_one,
        batch_size, shuffle, seed, what="audio files", directory=directory, stack_fn=stack_fn,
    )
    return tuple(result) if isinstance(result, list) else result
