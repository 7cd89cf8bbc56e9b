"""The README's main example trains, saves, reloads and predicts."""

import importlib.util
import pathlib
import re


def test_digits_example_trains_saves_and_reloads(capsys):
    path = pathlib.Path(__file__).parent.parent / "examples" / "digits_convnet.py"
    spec = importlib.util.spec_from_file_location("digits_convnet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accuracy, same = module.main(epochs=10)
    assert same
    assert accuracy > 0.5  # 10 classes: chance is 0.1
    assert "reloaded from" in capsys.readouterr().out


def test_onnx_export_example_serves_the_trained_digits_model(monkeypatch, capsys):
    examples = pathlib.Path(__file__).parent.parent / "examples"
    monkeypatch.syspath_prepend(str(examples))  # it imports digits_convnet, as when run
    spec = importlib.util.spec_from_file_location("export_onnx_digits",
                                                  examples / "export_onnx_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accuracy, onnx_accuracy, max_difference = module.main(epochs=5)
    assert accuracy > 0.5  # 10 classes: chance is 0.1
    assert abs(onnx_accuracy - accuracy) < 1e-6  # float32 metric vs float64 mean
    assert max_difference < 1e-4
    # The Input's auto-generated name (numbered after the models made before) and a
    # dynamic batch axis.
    assert re.search(r"ONNX input 'input_layer(_\d+)?' of shape \['batch', 8, 8, 1\]",
                     capsys.readouterr().out)
