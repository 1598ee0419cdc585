"""``automl-nn spaces``, ``datasets`` and ``--version``; the last two as the installed script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import automl_nn
from automl_nn.data import list_datasets
from automl_nn.space import list_spaces
from tests.cli.conftest import run_cli

SCRIPT = Path(sys.executable).parent / "automl-nn"


def test_spaces_lists_the_presets_one_per_line() -> None:
    run = run_cli("spaces")
    assert run.code == 0
    assert run.out.splitlines() == list_spaces()
    assert {"default", "quick"} <= set(run.out.splitlines())


def test_the_installed_script_prints_its_version() -> None:
    done = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"automl-nn {automl_nn.__version__}"


def test_the_installed_script_lists_the_datasets_with_kind_shape_and_sizes() -> None:
    done = subprocess.run([SCRIPT, "datasets"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["name", "kind", "input", "shape", "classes", "train", "val", "test"]
    assert [row.split()[0] for row in rows] == list_datasets()
    wine = next(row.split() for row in rows if row.split()[0] == "wine")
    assert wine[1:5] == ["multiclass", "tabular", "13", "3"]
    assert sum(int(size) for size in wine[5:]) == 178  # every sample of the wine data
