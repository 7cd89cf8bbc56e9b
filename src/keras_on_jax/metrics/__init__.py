"""keras.metrics: metric classes, metric functions, `get`, `serialize`, `deserialize`, and
`resolve_metric` (the compile-time rules for `"accuracy"` / `"crossentropy"`)."""

import inspect

from keras_on_jax.backend import naming
from keras_on_jax.losses._serialization import deserialize_object, get_object, serialize_object
from keras_on_jax.losses.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from keras_on_jax.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from keras_on_jax.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from keras_on_jax.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from keras_on_jax.metrics.f_score_metrics import F1Score, FBetaScore
from keras_on_jax.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from keras_on_jax.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from keras_on_jax.metrics.metric import Metric
from keras_on_jax.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from keras_on_jax.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from keras_on_jax.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)

ALL_OBJECTS = {
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives,
    ConcordanceCorrelation, PearsonCorrelation,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore,
    IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
}  # fmt: skip

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({naming.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)

# The function forms exported by keras.metrics.
METRIC_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        binary_accuracy, binary_crossentropy, binary_focal_crossentropy, categorical_accuracy,
        categorical_crossentropy, categorical_focal_crossentropy, categorical_hinge,
        concordance_correlation, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
        mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
        pearson_correlation, poisson, sparse_categorical_accuracy,
        sparse_categorical_crossentropy, sparse_top_k_categorical_accuracy, squared_hinge,
        top_k_categorical_accuracy,
    )
}  # fmt: skip


def _function_objects():
    from keras_on_jax import losses

    objects = {k: v for k, v in losses.ALL_OBJECTS_DICT.items() if inspect.isfunction(v)}
    objects.update(METRIC_FUNCTIONS)
    from keras_on_jax.metrics.accuracy_metrics import accuracy
    from keras_on_jax.metrics.regression_metrics import cosine_similarity

    objects["accuracy"] = accuracy
    objects["cosine_similarity"] = cosine_similarity
    return objects


def _deserialize_fn(config, custom_objects=None):
    """Deserialize the `fn` of a `MeanMetricWrapper` config (a function or an object)."""
    if isinstance(config, dict) and config.get("class_name") != "function":
        from keras_on_jax import losses

        module = config.get("module", "")
        objects = losses.ALL_OBJECTS_DICT if "losses" in module else ALL_OBJECTS_DICT
        return deserialize_object(config, objects, custom_objects, kind="metric fn")
    return deserialize_object(config, _function_objects(), custom_objects, kind="metric function")


def serialize(metric):
    """Serialize a metric function or `Metric` instance to a Keras config dict."""
    return serialize_object(metric, "keras.metrics")


def deserialize(config, custom_objects=None):
    """Deserialize a metric from a name or a Keras config dict."""
    if isinstance(config, dict) and config.get("class_name") == "function":
        return _deserialize_fn(config, custom_objects)
    return deserialize_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects, kind="metric"
    )


def get(identifier):
    """Retrieve a metric: `None`, a name (`"mse"`, `"auc"`, `"Precision"`), a config dict,
    a function, a `Metric` class or a `Metric` instance."""
    return get_object(identifier, ALL_OBJECTS_DICT, deserialize, "metric", "Metric")


def _get_object_name(obj):
    if hasattr(obj, "name"):
        return obj.name
    if hasattr(obj, "__name__"):
        return naming.to_snake_case(obj.__name__)
    return naming.to_snake_case(obj.__class__.__name__)


def _is_binary_or_sparse_categorical(y_true, y_pred):
    t_shape = tuple(y_true.shape)
    p_shape = tuple(y_pred.shape)
    t_last = t_shape[-1] if t_shape else None
    p_last = p_shape[-1] if p_shape else None
    is_binary = p_last == 1
    is_sparse = len(t_shape) < len(p_shape) or (t_last == 1 and p_last is not None and p_last > 1)
    return is_binary, is_sparse


def _loss_from_logits(loss):
    """`from_logits` of a loss given as a `Loss` instance or a config dict (else False)."""
    if loss is None:
        return False
    if hasattr(loss, "from_logits"):
        return bool(loss.from_logits)
    if isinstance(loss, dict):
        return bool(loss.get("config", {}).get("from_logits", False))
    kwargs = getattr(loss, "_fn_kwargs", None)
    if isinstance(kwargs, dict):
        return bool(kwargs.get("from_logits", False))
    return False


def resolve_metric(identifier, y_true, y_pred, loss=None):
    """Turn a `compile(metrics=...)` entry into a `Metric`, following Keras 3's
    `compile_utils.get_metric`.

    `"accuracy"` / `"acc"` become `BinaryAccuracy` (y_pred last dim 1),
    `SparseCategoricalAccuracy` (y_true rank below y_pred's, or y_true last dim 1 with
    y_pred last dim > 1) or `CategoricalAccuracy`, named as the string given.
    `"crossentropy"` / `"ce"` pick the crossentropy metric by the same rule, with
    `from_logits` taken from `loss` when it has one. Other strings and objects go through
    `get`; functions are wrapped in `MeanMetricWrapper`. String identifiers name the
    metric; other objects keep their name (functions: their snake-cased `__name__`).
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    key = str(identifier).lower() if isinstance(identifier, str) else None
    if key in ("accuracy", "acc"):
        is_binary, is_sparse = _is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            metric_obj = BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric_obj = SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric_obj = CategoricalAccuracy(name=str(identifier))
    elif key in ("crossentropy", "ce"):
        from_logits = _loss_from_logits(loss)
        is_binary, is_sparse = _is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            metric_obj = BinaryCrossentropy(name=str(identifier), from_logits=from_logits)
        elif is_sparse:
            metric_obj = SparseCategoricalCrossentropy(name=str(identifier), from_logits=from_logits)
        else:
            metric_obj = CategoricalCrossentropy(name=str(identifier), from_logits=from_logits)
    else:
        metric_obj = get(identifier)
    metric_name = identifier if isinstance(identifier, str) else _get_object_name(metric_obj)
    if not isinstance(metric_obj, Metric):
        metric_obj = MeanMetricWrapper(metric_obj)
    metric_obj.name = metric_name
    return metric_obj


__all__ = sorted(
    [cls.__name__ for cls in ALL_OBJECTS]
    + list(METRIC_FUNCTIONS)
    + ["get", "serialize", "deserialize", "resolve_metric"]
)
