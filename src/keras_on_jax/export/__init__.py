"""`keras.export`: serving artifacts of models and layers.

`model.export(path, format=...)` writes one of:
- `"onnx"`: an ONNX file (through jax2onnx) for ONNX Runtime;
- `"jax"`: a directory with a `jax.export` program (StableHLO, symbolic batch axis) and
  the weights beside it, served by `load(path)` or a few lines of plain JAX;
- `"tf_saved_model"`: a TensorFlow SavedModel (through jax2tf; needs TensorFlow).
`ExportArchive` composes several endpoints into one artifact.
"""

from keras_on_jax.export.archive import DEFAULT_ENDPOINT_NAME, FORMATS, ExportArchive
from keras_on_jax.export.jax_artifact import LoadedArtifact, load
from keras_on_jax.export.signatures import model_input_signature, standardize_signature


def export_model(model, filepath, format="tf_saved_model", verbose=None,
                 input_signature=None, **kwargs):
    """`model.export(...)`: see `keras_on_jax.models.Model.export`."""
    if format not in FORMATS:
        raise ValueError(
            f"Unrecognized format={format}. Supported formats are: {list(FORMATS)}."
        )
    verbose = True if verbose is None else verbose
    if input_signature is None:
        input_signature = model_input_signature(model)
    signature = standardize_signature(input_signature)

    def serve(*args):
        return model(*args, training=False)

    endpoint_kwargs = {}
    if format == "tf_saved_model":
        endpoint_kwargs = {k: kwargs.pop(k) for k in ("is_static", "jax2tf_kwargs")
                           if k in kwargs}
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint(DEFAULT_ENDPOINT_NAME, serve, signature, **endpoint_kwargs)
    archive.write_out(filepath, verbose=verbose, format=format, **kwargs)


__all__ = ["ExportArchive", "LoadedArtifact", "export_model", "load"]
