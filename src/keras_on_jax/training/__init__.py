"""The trainer: compile/fit/evaluate/predict, the compiled steps, data adapters."""
