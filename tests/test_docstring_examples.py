"""The examples in the docstrings of the package and the benchmarks run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import automl_nn
import benchmarks

MODULES = sorted(
    info.name
    for package in (automl_nn, benchmarks)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    if not info.name.endswith(".__main__")
)


@pytest.mark.parametrize("module_name", ["automl_nn", "benchmarks", *MODULES])
def test_docstring_examples(module_name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example may write files (an MLflow store, exports)
    module = importlib.import_module(module_name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert failures == 0
