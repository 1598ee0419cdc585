"""What the flags of ``automl-nn search`` accept: durations and searcher options."""

from __future__ import annotations

import pytest

from automl_nn.cli import parse_cv_folds, parse_duration, parse_searcher_options
from automl_nn.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("300", 300.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("1.5h", 5400.0),
        ("0.5m", 30.0),
        (" 45S ", 45.0),
    ],
)
def test_a_duration_is_seconds_or_a_number_with_a_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["0", "0s", "0.0h", "-5", "-5m", "10x", "", "m", "1e3", "1.2.3", "inf", "nan", "5 m s"]
)
def test_a_duration_that_is_not_positive_or_not_a_duration_names_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match=r"--budget = .* expected a duration > 0"):
        parse_duration(text)


def test_searcher_options_are_json_when_they_parse_else_text() -> None:
    pairs = ["n_startup_trials=5", "sampler=random", "weights=[1, 2]", "flag=true", "name=a=b"]
    assert parse_searcher_options(pairs) == {
        "n_startup_trials": 5,
        "sampler": "random",
        "weights": [1, 2],
        "flag": True,
        "name": "a=b",
    }


@pytest.mark.parametrize("pair", ["sampler", "=random", " =1"])
def test_a_searcher_option_without_a_key_is_refused(pair: str) -> None:
    with pytest.raises(ConfigError, match="--searcher-option"):
        parse_searcher_options([pair])


@pytest.mark.parametrize(
    ("text", "folds"), [("auto", "auto"), ("AUTO", "auto"), ("none", None), ("5", 5), (" 3 ", 3)]
)
def test_cv_folds_are_auto_none_or_a_whole_number(text: str, folds: int | str | None) -> None:
    assert parse_cv_folds(text) == folds


@pytest.mark.parametrize("text", ["five", "2.5", ""])
def test_cv_folds_that_are_not_a_number_name_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match="--cv-folds"):
        parse_cv_folds(text)
