"""A plain (non-editable) install carries the search spaces: a wheel holds them and loads them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import automl_nn
from automl_nn.space import search_spaces_dir

REPOSITORY = Path(automl_nn.__file__).resolve().parent.parent

LOAD_EVERY_SPACE = """
import sys, automl_nn
from automl_nn import list_spaces, load_space
assert automl_nn.__file__.startswith(sys.argv[1]), automl_nn.__file__
names = list_spaces()
for name in names:
    load_space(name)
print(",".join(names))
"""


def _built_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPOSITORY / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPOSITORY / "automl_nn", source / "automl_nn", ignore=ignore)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("automl_nn-*.whl")
    return wheel


def test_a_wheel_ships_every_search_space_and_loads_them_outside_the_repository(
    tmp_path: Path,
) -> None:
    wheel = _built_wheel(tmp_path)
    assert wheel.name.startswith(f"automl_nn-{automl_nn.__version__}-")  # one version
    packaged = {
        f"automl_nn/search_spaces/{path.relative_to(search_spaces_dir()).as_posix()}"
        for path in search_spaces_dir().rglob("*")
        if path.is_file() and path.suffix in (".yaml", ".md")
    }
    with zipfile.ZipFile(wheel) as archive:
        assert packaged <= set(archive.namelist())
        site = tmp_path / "site"
        archive.extractall(site)

    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_EVERY_SPACE, str(site)],
        cwd=tmp_path,  # not the repository: only the unpacked wheel can be imported
        env={**os.environ, "PYTHONPATH": str(site)},
        check=True,
        capture_output=True,
        text=True,
    )
    assert loaded.stdout.strip().split(",") == automl_nn.list_spaces()


def test_the_top_level_search_spaces_folder_is_the_packaged_one() -> None:
    assert (REPOSITORY / "search_spaces").resolve() == search_spaces_dir()
