"""The README's main example trains, saves, reloads and predicts."""

import importlib.util
import pathlib


def test_digits_example_trains_saves_and_reloads(capsys):
    path = pathlib.Path(__file__).parent.parent / "examples" / "digits_convnet.py"
    spec = importlib.util.spec_from_file_location("digits_convnet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accuracy, same = module.main(epochs=10)
    assert same
    assert accuracy > 0.5  # 10 classes: chance is 0.1
    assert "reloaded from" in capsys.readouterr().out
