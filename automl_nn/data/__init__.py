"""Data sets as TaskData: built-ins (made locally) and the user's own arrays or CSV files."""

from __future__ import annotations

from automl_nn.data._arrays import from_arrays, from_csv
from automl_nn.data._builtin import list_datasets, load_dataset
from automl_nn.data._task_data import INPUT_KINDS_BY_RANK, TaskData

__all__ = [
    "INPUT_KINDS_BY_RANK",
    "TaskData",
    "from_arrays",
    "from_csv",
    "list_datasets",
    "load_dataset",
]
