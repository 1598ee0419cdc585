"""Fresh splits of a built-in data set, for the benchmarks that ask whether a verdict on one
split is the data set's.

Split 0 is the split every search gets by default (``load_dataset(name)``: the validation
split of seed 0 and the fixed test split). Split ``s`` > 0 draws its own validation split
and, for the scikit-learn sets, its own test split (``test_seed=s``): a verdict then rests
on other test samples too, not on the same 36 to 114 again. ``mnist1d`` keeps its own test
split of 1000 samples; only its validation split moves.
"""

from __future__ import annotations

from typing import Any

# How a report names the splits (each benchmark's markdown quotes it).
FRESH_SPLITS = (
    "`load_dataset(name, seed=s, test_seed=s)`: each split draws its own validation and "
    "test samples; mnist1d's test split is its own and never moves"
)


def fresh_split(dataset: str, split: int) -> Any:
    """Split ``split`` of a built-in data set (0: the default split)."""
    from automl_nn import load_dataset

    if split == 0 or dataset == "mnist1d":
        return load_dataset(dataset, seed=split)
    return load_dataset(dataset, seed=split, test_seed=split)


def scored_metric(data: Any) -> str:
    """The name of a data set's default metric without ``val_`` (``accuracy``, ``mse``).

    ``evaluate`` returns the metric under this name; ``fit`` and ``cross_validate`` under
    ``val_<name>``.

    Example:
        >>> from automl_nn import load_dataset
        >>> scored_metric(load_dataset("wine")), scored_metric(load_dataset("diabetes"))
        ('accuracy', 'mse')
    """
    from automl_nn.api import default_metric

    return default_metric(data.kind).removeprefix("val_")
