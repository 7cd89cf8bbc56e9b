"""Keras 3's op classes, made from `ops/op_table.py`, and the symbolic `keras.ops` functions.

Each table entry becomes one `Operation` subclass (made on first use, named as in Keras:
`Add`, `Mean`, `GetItem`, ...) whose
- constructor takes the entry's config arguments (`Mean(axis=1, keepdims=False)`),
- `call` runs the eager `keras_on_jax.ops` function with the config and call arguments,
- `compute_output_spec` traces that function (`output_specs.compute_output_spec`), or, for
  element-wise ops, broadcasts shapes as Keras does; the few ops tracing cannot describe
  have their Keras rule in `ops/symbolic_specs.py`,
- `get_config` / `from_config` speak the `.keras` format (`module` `keras.src.ops.<m>`).

`make_symbolic(globals(), "numpy")`, called at the end of each ops module, wraps its
public functions: a call with a KerasTensor anywhere in its arguments builds the op node;
any other call goes straight to the function (one loop over the arguments).
"""

from __future__ import annotations

import functools
import importlib
import inspect

from keras_on_jax.backend import config as backend_config
from keras_on_jax.backend import dtypes, keras_tensor
from keras_on_jax.backend.keras_tensor import contains_keras_tensor, has_symbolic_args
from keras_on_jax.ops import op_table, symbolic_specs
from keras_on_jax.ops.operation import Operation
from keras_on_jax.ops.output_specs import broadcast_output_spec, compute_output_spec, with_context


class OpSpec:
    """One op-table entry: the Keras class, the function it runs and how its arguments
    split into config and call arguments."""

    def __init__(self, module, class_name, functions=None, config="", keywords=""):
        self.module = module
        self.keras_module = f"keras.src.ops.{module}"
        self.class_name = class_name
        self.functions = tuple(functions.split()) if functions else ()
        self.config = tuple(config.split())
        self.keywords = frozenset(keywords.split())
        self.fn = None  # the eager function, set by `make_symbolic`
        self._plan = None

    def signature(self):
        return inspect.signature(self.fn)

    def plan(self):
        """How `fn`'s parameters are filled: [(name, kind, positional)], kind one of
        "config", "arg", "kwarg", "varargs", "varkw"."""
        if self._plan is None:
            plan = []
            for p in self.signature().parameters.values():
                if p.name in self.config:
                    kind = "config"
                elif p.kind is p.VAR_POSITIONAL:
                    kind = "varargs"
                elif p.kind is p.VAR_KEYWORD:
                    kind = "varkw"
                elif p.name in self.keywords or p.kind is p.KEYWORD_ONLY:
                    kind = "kwarg"
                else:
                    kind = "arg"
                plan.append((p.name, kind, p.kind is p.POSITIONAL_OR_KEYWORD))
            self._plan = plan
        return self._plan

    def parameter_names(self):
        return {name for name, _, _ in self.plan()}

    def defaults(self):
        params = self.signature().parameters
        return {n: params[n].default for n in self.config
                if n in params and params[n].default is not inspect.Parameter.empty}


_SPECS = {}  # (module, class name) -> OpSpec
_FUNCTION_SPECS = {}  # (module, function name) -> OpSpec of the class it makes
for _module, _entries in op_table.TABLES.items():
    for _entry in _entries:
        _spec = OpSpec(_module, *_entry)
        _SPECS[(_module, _spec.class_name)] = _spec
        for _fn_name in _spec.functions:
            _FUNCTION_SPECS.setdefault((_module, _fn_name), _spec)
_CLASSES = {}


# ---------------------------------------------------------------------------------------
# The op classes
# ---------------------------------------------------------------------------------------
class BuiltinOperation(Operation):
    """Base of the classes made from the op table (`_spec` is set on each)."""

    _spec = None

    def __init__(self, *args, name=None, **kwargs):
        spec = self._spec
        if len(args) > len(spec.config):
            raise TypeError(
                f"{spec.class_name}() takes at most {len(spec.config)} positional "
                f"arguments ({', '.join(spec.config) or 'none'}). Received: {args}"
            )
        values = dict(zip(spec.config, args))
        for key, value in kwargs.items():
            if key not in spec.config:
                raise TypeError(
                    f"{spec.class_name}() got an unexpected keyword argument '{key}'. "
                    f"It accepts: {', '.join(spec.config) or 'only name'}."
                )
            if key in values:
                raise TypeError(f"{spec.class_name}() got multiple values for argument '{key}'")
            values[key] = value
        if spec.fn is not None:
            values = {**spec.defaults(), **values}
            params = spec.signature().parameters
            missing = [n for n in spec.config if n not in values and n in params]
            if missing:
                raise TypeError(
                    f"{spec.class_name}() missing required argument(s): {', '.join(missing)}"
                )
        super().__init__(name=name)
        values = {n: values[n] for n in spec.config if n in values}  # Keras's order
        if spec.class_name in symbolic_specs.CONFIG_RULES:  # what Keras's constructor changes
            values = symbolic_specs.CONFIG_RULES[spec.class_name](values)
        self._config = values

    def call(self, *args, **kwargs):
        spec = self._spec
        if spec.fn is None:
            raise NotImplementedError(
                f"{spec.class_name} is an abstract Keras op class: it cannot be called."
            )
        adapt = symbolic_specs.CALL_ARGUMENTS.get(spec.class_name)
        if adapt is not None:
            args, kwargs = adapt(*args, **kwargs)
        positional, keywords = _function_arguments(spec, self._config, args, kwargs)
        return spec.fn(*positional, **keywords)

    def compute_output_spec(self, *args, **kwargs):
        name = self._spec.class_name
        if name in symbolic_specs.RULES:
            return symbolic_specs.RULES[name](self, *args, **kwargs)
        if name in op_table.ELEMENTWISE:
            return broadcast_output_spec(self, args, kwargs)
        try:
            return compute_output_spec(self.call, *args, **kwargs)
        except Exception as e:
            if name in symbolic_specs.FALLBACK_RULES:
                return symbolic_specs.FALLBACK_RULES[name](self, *args, **kwargs)
            raise with_context(e, f"Exception encountered when calling {name}.call() on "
                                  f"symbolic inputs (op '{self.name}'): {e}") from e

    def get_config(self):
        config = dict(self._config)
        if self._spec.class_name not in _CONFIG_WITHOUT_NAME:
            config = {"name": self.name, **config}
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# Keras writes these classes' configs without `name` (their own `get_config`).
_CONFIG_WITHOUT_NAME = frozenset({"ExtractPatches"})


def _function_arguments(spec, config, args, kwargs):
    """Map an op's config and call arguments back onto its function's parameters."""
    positional, keywords = [], dict(kwargs)
    remaining = list(args)
    in_order = True  # positional parameters are filled left to right until a gap
    for name, kind, can_be_positional in spec.plan():
        if kind == "varargs":
            positional.extend(remaining)
            remaining = []
            continue
        if kind == "varkw":  # config the function reads from **kwargs (`rms_scaling`)
            keywords.update({k: v for k, v in config.items() if k not in spec.parameter_names()})
            continue
        if kind == "config":
            value, have = config.get(name), name in config
        elif kind == "arg" and remaining:
            value, have = remaining.pop(0), True
        else:
            have = False
        if have and in_order and can_be_positional:
            positional.append(value)
        elif have:
            keywords[name] = value
        elif can_be_positional:
            in_order = False
    if remaining:
        raise TypeError(
            f"{spec.class_name}.call() got {len(args)} positional arguments; it takes "
            f"{sum(1 for _, k, _ in spec.plan() if k == 'arg')}."
        )
    return positional, keywords


def _standardize_arguments(class_name, values):
    """The argument standardization Keras's functions do before making the op, so
    configs read as Keras writes them."""
    values = dict(values)
    if "dtype" in values and (values["dtype"] is not None or class_name in _FLOATX_DEFAULT):
        values["dtype"] = dtypes.standardize_dtype(values["dtype"])
    if class_name in _STANDARDIZED_LAYOUT:
        if values.get("data_format") is None:
            values["data_format"] = backend_config.image_data_format()
        if isinstance(values.get("padding"), str):
            values["padding"] = values["padding"].lower()
    return values


_FLOATX_DEFAULT = frozenset({"Cast", "SaturateCast", "OneHot", "MultiHot"})
_STANDARDIZED_LAYOUT = frozenset({
    "MaxPool", "AveragePool", "Conv", "DepthwiseConv", "SeparableConv", "ConvTranspose",
    "DepthToSpace", "SpaceToDepth",
})


def op_class(class_name, module=None):
    """The op class Keras names `class_name` in `keras.src.ops.<module>` (any ops module
    when `module` is None; NumPy's first), or None."""
    if module is not None:
        module = module.rsplit(".", 1)[-1]
        spec = _SPECS.get((module, class_name))
    else:
        spec = next((s for m in ("numpy", *op_table.TABLES) if (s := _SPECS.get((m, class_name)))),
                    None)
    if spec is None:
        return None
    key = (spec.module, spec.class_name)
    if key not in _CLASSES:
        if spec.fn is None and spec.functions:
            _load_module(spec.module)
        cls = type(spec.class_name, (BuiltinOperation,), {
            "_spec": spec,
            "_keras_names": (spec.keras_module, spec.class_name),
            "__module__": f"keras_on_jax.ops.{spec.module}",
            "__doc__": f"Keras's `{spec.class_name}` op (`{spec.keras_module}`)."
                       + (f" Runs `keras.ops.{spec.functions[0]}`." if spec.functions else ""),
        })
        _CLASSES[key] = cls
    return _CLASSES[key]


def resolve_op_class(class_name, module=None):
    """The class a file names `module`.`class_name` (`keras.src.ops.numpy`, `Add`), or
    None: the table's op classes and the `Operation` base."""
    if class_name == "Operation" and module in ("keras", "keras.src.ops.operation"):
        return Operation
    return op_class(class_name, module)  # module None: any ops module


def _load_module(module):
    importlib.import_module(f"keras_on_jax.ops.{module}")


# ---------------------------------------------------------------------------------------
# keras.ops functions: eager on arrays, op nodes on KerasTensors
# ---------------------------------------------------------------------------------------
def _symbolic_call(spec, args, kwargs):
    bound = spec.signature().bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    varkw = next((n for n, kind, _ in spec.plan() if kind == "varkw"), None)
    if varkw is not None:  # config arguments the function takes through **kwargs
        extra = dict(values[varkw])
        values.update({n: extra.pop(n) for n in spec.config if n in extra})
        values[varkw] = extra
    config = {}
    for name in spec.config:
        value = values.get(name)
        if contains_keras_tensor(value):
            raise ValueError(
                f"Argument `{name}` of `keras.ops.{spec.functions[0]}` must be a static value "
                f"when the op is called on KerasTensors. Received: {name}={value}"
            )
        if name in values:
            config[name] = value
    call_args, call_kwargs = [], {}
    for name, kind, _ in spec.plan():
        if kind == "config" or name not in values:
            continue
        if kind == "varargs":
            call_args.extend(values[name])
        elif kind == "varkw":
            call_kwargs.update(values[name])
        elif kind == "kwarg":
            call_kwargs[name] = values[name]
        else:
            call_args.append(values[name])
    op = op_class(spec.class_name, spec.module)(**_standardize_arguments(spec.class_name, config))
    return op.symbolic_call(*call_args, **call_kwargs)


def _symbolic_function(fn, spec):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        if has_symbolic_args(args, kwargs):
            return _symbolic_call(spec, args, kwargs)
        return fn(*args, **kwargs)

    return op


def make_symbolic(namespace, module):
    """Wrap the op functions of `keras_on_jax.ops.<module>` (its `namespace`, i.e.
    `globals()`) so that calls on KerasTensors build op nodes."""
    for (mod, fn_name), spec in _FUNCTION_SPECS.items():
        if mod != module:
            continue
        fn = namespace[fn_name]
        if spec.module == module and spec.functions[0] == fn_name:
            spec.fn = fn
        namespace[fn_name] = _symbolic_function(fn, spec)
    for spec in _SPECS.values():  # classes only files make (`Abs`, `Conj`)
        if spec.module == module and spec.fn is None and spec.functions:
            spec.fn = getattr(namespace[spec.functions[0]], "__wrapped__", None)


def _operator(class_name, args, config):
    """`KerasTensor` operators (`x + 1`, `x[:, 0]`, `x.reshape(...)`) build NumPy ops."""
    return op_class(class_name, "numpy")(**config).symbolic_call(*args)


keras_tensor.set_operator_dispatch(_operator)
