"""The floors of the house (docs/architecture.md), checked from the source.

Every module under `src/keras_on_jax` is parsed with `ast`; every import counts, also
those inside functions, and relative imports are resolved. A room is the first package
(or top-level module) under `keras_on_jax`; a broken rule names `file:line`.
"""

import ast
import importlib.util
import pathlib

import pytest

PACKAGE = "keras_on_jax"
ROOT = pathlib.Path(importlib.util.find_spec(PACKAGE).origin).parent

CONFIG_ABLE = ("activations", "initializers", "regularizers", "constraints", "losses",
               "metrics", "optimizers")


def _module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def collect_imports(root):
    """`[(file, line, importing module, imported module)]` for every module under `root`,
    imports of modules outside `root`'s package left out."""
    package = root.name
    modules = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    found = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # `from pkg import sub` imports the submodule `pkg.sub` when there is one.
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                           for a in node.names]
            else:
                continue
            file = path.relative_to(root.parent).as_posix()
            for target in targets:
                if target == package or target.startswith(package + "."):
                    found.append((file, node.lineno, name, target))
    return sorted(found)


def room(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations(imports, importer_rooms, forbidden=None, allowed=None):
    out = []
    for path, line, importer, target in imports:
        if room(importer) not in importer_rooms or room(target) == room(importer):
            continue
        if (forbidden is not None and room(target) in forbidden) or (
                allowed is not None and room(target) not in allowed):
            out.append(f"{path}:{line}: {importer} imports {target}")
    return out


@pytest.fixture(scope="module")
def imports():
    return collect_imports(ROOT)


def test_serialization_core_imports_only_the_backend(imports):
    # The low room every config-able object registers into reaches up to nothing.
    assert violations(imports, {"serialization"}, allowed={"backend"}) == []


def test_layers_import_no_training_io_models_or_saving(imports):
    # A layer saves its variables to a store and knows no file format and no trainer.
    assert violations(imports, {"layers"},
                      forbidden={"training", "io", "models", "saving"}) == []


@pytest.mark.parametrize("config_able", CONFIG_ABLE)
def test_config_able_objects_import_no_io_training_or_models(imports, config_able):
    assert violations(imports, {config_able}, forbidden={"io", "training", "models"}) == []


def test_backend_imports_nothing_above_it(imports):
    # The bottom floor: upper rooms reach it through hooks they install (the variable
    # placer of distribute/, the ops of KerasTensor arithmetic).
    assert violations(imports, {"backend"}, allowed={"backend"}) == []


def test_distribute_imports_no_training_or_models(imports):
    # Strategies, meshes and layouts: no trainer, no graph walking.
    assert violations(imports, {"distribute"}, forbidden={"training", "models"}) == []


def test_the_check_sees_function_level_relative_and_from_package_imports(tmp_path):
    pkg = tmp_path / PACKAGE
    for folder in ("layers", "io", "backend"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "io" / "weights.py").write_text("")
    (pkg / "layers" / "dense.py").write_text(
        "import numpy\n"
        "from . import sibling\n"
        "def f():\n"
        "    from ..io import weights\n"
        "    from keras_on_jax import io\n"
        "    import keras_on_jax.io.weights\n"
        "    from ..backend import nothing\n"
    )
    found = collect_imports(pkg)
    bad = violations(found, {"layers"}, forbidden={"io"})
    assert [b.split(": ", 1)[1] for b in bad] == [
        "keras_on_jax.layers.dense imports keras_on_jax.io.weights",
        "keras_on_jax.layers.dense imports keras_on_jax.io",
        "keras_on_jax.layers.dense imports keras_on_jax.io.weights",
    ]
    assert sorted(b.split(": ", 1)[0].rsplit(":", 1)[1] for b in bad) == ["4", "5", "6"]
    # `from . import sibling` stays inside the room.
    assert ("keras_on_jax.layers.dense", "keras_on_jax.layers") in {(i, t) for _, _, i, t in found}
