"""examples/fine_tune.py: the FAQ's fine-tuning workflow runs end to end."""

import importlib.util
import pathlib


def test_fine_tune_example_runs_and_reports_each_stage(capsys):
    path = pathlib.Path(__file__).parent.parent / "examples" / "fine_tune.py"
    spec = importlib.util.spec_from_file_location("fine_tune", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main()
    out = capsys.readouterr().out
    assert "pretrained a model" in out and "new head" in out and "fine-tuning" in out
    # Stage 1 trains the new head only; stage 2 adds block2's convolution (kernel, bias).
    assert result["trainable_weights"] == 4
    # Features pretrained on digits 0-4 transfer: the new head beats chance (0.1) clearly,
    # fine-tuning keeps it, and the frozen BatchNormalization statistics never move.
    assert result["head"] > 0.5, result
    assert result["fine_tuned"] > 0.5, result
    assert result["bn_unchanged"]
