"""A logged model names what loading it needs, also where automl_nn runs from a source tree."""

from __future__ import annotations

import importlib.metadata

import pytest
import torch

import automl_nn
from automl_nn.tracking._mlflow import _model_requirements


def test_requirements_need_no_installed_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where automl_nn runs from a source tree on ``PYTHONPATH``, never installed."""
    installed_version = importlib.metadata.version

    def version_without_automl_nn(name: str) -> str:
        if name.replace("-", "_") == "automl_nn":
            raise importlib.metadata.PackageNotFoundError(name)
        return installed_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version_without_automl_nn)
    torch_version = torch.__version__.split("+")[0]
    assert _model_requirements("pickle") == [
        f"torch=={torch_version}",
        f"automl_nn=={automl_nn.__version__}",
    ]


def test_a_pt2_model_needs_torch_alone() -> None:
    """Its graph names no class of automl_nn, so serving it installs no automl_nn."""
    assert _model_requirements("pt2") == [f"torch=={torch.__version__.split('+')[0]}"]
