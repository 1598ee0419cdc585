"""The examples in the package's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import automl_nn

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(automl_nn.__path__, prefix="automl_nn.")
    if info.name not in ("automl_nn.__main__",)
)


@pytest.mark.parametrize("module_name", ["automl_nn", *MODULES])
def test_docstring_examples(module_name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example may write files (an MLflow store, exports)
    module = importlib.import_module(module_name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert failures == 0
