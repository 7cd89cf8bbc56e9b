"""Helpers for the export tests: running ONNX files in onnxruntime."""

import onnxruntime as ort


def ort_session(path):
    """An onnxruntime session on the CPU (its C++ log kept to errors: jax2onnx leaves a
    few unused constants in loop bodies, which onnxruntime reports as it drops them)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(path, feeds):
    """Outputs of the ONNX file `path` for `feeds`: a dict by input name, or a list in the
    file's input order."""
    session = ort_session(path)
    if not isinstance(feeds, dict):
        feeds = {i.name: x for i, x in zip(session.get_inputs(), feeds)}
    return session.run(None, feeds)


def onnx_inputs(path):
    """`[(name, shape), ...]` of the file's inputs; unknown sizes are their names."""
    return [(i.name, list(i.shape)) for i in ort_session(path).get_inputs()]
