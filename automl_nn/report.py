"""A search's report: one self-contained HTML file with its tables and figures.

The report shows the leaderboard, the learning curves of the top trials, the best value so
far against trials and against time, parallel coordinates of the hyperparameters, the
importance of each hyperparameter and the metric against the parameter count (the Pareto
front). Figures are PNG images embedded as ``data:`` URIs and the style sheet is inline, so
the file opens offline; every string that comes from a trial is HTML-escaped.

The analyses are pure functions over a leaderboard and per-trial histories (the parts of a
:class:`~automl_nn.results.SearchResult`), so they work on hand-made tables too.

Example:
    >>> board = pd.DataFrame({"trial_id": ["a", "b", "c"], "val_loss": [0.5, 0.7, 0.2]})
    >>> best_so_far(board.val_loss, "min").tolist()
    [0.5, 0.5, 0.2]
    >>> board["num_parameters"] = [100, 50, 400]
    >>> pareto_front(board, "val_loss", "min").trial_id.tolist()
    ['b', 'a', 'c']
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from automl_nn.results import CONFIG_PREFIX, FAILED_STATUSES, TOP_TRIALS_IN_PLOTS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MIN_TRIALS_FOR_IMPORTANCE",
    "SECTIONS",
    "Importance",
    "SearchSummary",
    "best_so_far",
    "best_so_far_by_time",
    "best_so_far_by_trial",
    "hyperparameter_importance",
    "pareto_front",
    "report_html",
    "usable_metric",
    "varying_config_columns",
    "write_report",
]

# Below this many trials with a metric, a forest's importances are noise, not evidence.
MIN_TRIALS_FOR_IMPORTANCE = 5
FOREST_TREES = 100
PERMUTATION_REPEATS = 10
# A numeric hyperparameter spanning this ratio or more (a learning rate) gets a log axis.
LOG_AXIS_RATIO = 100.0
# Where a parallel-coordinates line crosses an axis whose hyperparameter the trial lacks.
MISSING_POSITION = -0.12
COST_COLUMN = "num_parameters"
MISSING_TEXT = "\u2013"
CURVE_COLUMNS = ("train_loss", "val_loss")


class SearchSummary(Protocol):
    """What the report reads from a search: a :class:`~automl_nn.results.SearchResult`."""

    leaderboard: pd.DataFrame
    histories: dict[str, pd.DataFrame]
    metric: str
    mode: str
    best_trial_id: str | None
    mlflow_parent_run_id: str | None
    experiment_path: str


@dataclass(frozen=True)
class Importance:
    """How much the metric depends on each hyperparameter.

    Attributes:
        method: how the scores were computed, in words.
        scores: hyperparameter (without ``config.``) -> score, highest first; empty when
            there is nothing to score, and then ``note`` says why.
        note: why there are no scores (``not enough trials ...``), or None.
    """

    method: str
    scores: pd.Series
    note: str | None = None


# -- analyses --------------------------------------------------------------------------


def usable_metric(leaderboard: pd.DataFrame, metric: str) -> pd.Series:
    """Each trial's last ``metric`` as a float; NaN for failed trials and missing values.

    Example:
        >>> board = pd.DataFrame({"status": ["completed", "failed"], "val_loss": [0.5, 0.1]})
        >>> usable_metric(board, "val_loss").tolist()
        [0.5, nan]
    """
    values = pd.to_numeric(leaderboard[metric], errors="coerce").astype(float)
    if "status" in leaderboard:
        values = values.where(~leaderboard["status"].isin(FAILED_STATUSES))
    return values


def best_so_far(values: Sequence[float] | pd.Series, mode: str) -> np.ndarray:
    """The running best of ``values`` (min or max by ``mode``); NaN values are skipped.

    Example:
        >>> best_so_far([0.2, float("nan"), 0.5, 0.3], "max").tolist()
        [0.2, 0.2, 0.5, 0.5]
    """
    array = np.asarray(values, dtype=float)
    running = np.fmax if mode == "max" else np.fmin
    return running.accumulate(array) if len(array) else array


def best_so_far_by_trial(leaderboard: pd.DataFrame, metric: str, mode: str) -> pd.DataFrame:
    """The best value after each trial, in the order the searcher proposed the trials.

    The order is ``trial_number`` when the leaderboard has it, else the rows' order.

    Returns:
        One row per trial: ``trial`` (1, 2, ...), ``trial_id``, ``value`` (its usable
        metric) and ``best`` (the best value up to and including it).
    """
    ordered = (
        leaderboard.sort_values("trial_number", kind="stable")
        if "trial_number" in leaderboard
        else leaderboard
    )
    values = usable_metric(ordered, metric).to_numpy()
    return pd.DataFrame(
        {
            "trial": np.arange(1, len(ordered) + 1),
            "trial_id": ordered["trial_id"].to_numpy(),
            "value": values,
            "best": best_so_far(values, mode),
        }
    )


def best_so_far_by_time(
    leaderboard: pd.DataFrame, histories: dict[str, pd.DataFrame], metric: str, mode: str
) -> pd.DataFrame:
    """The best value against seconds since the search started; a trial counts when it ends.

    A trial's end is its last report's ``timestamp``; the search's start is the earliest
    first report less that report's ``time_this_iter_s``. Each trial counts with the value
    the leaderboard ranks it by, so the curve ends at the search's best.

    Returns:
        One row per trial with timestamps, by end time: ``trial_id``, ``seconds``,
        ``value`` and ``best``; empty when no trial reported a ``timestamp``.
    """
    values = dict(zip(leaderboard["trial_id"], usable_metric(leaderboard, metric), strict=True))
    timed = {
        trial_id: history
        for trial_id, history in histories.items()
        if trial_id in values and "timestamp" in history and len(history)
    }
    if not timed:
        return pd.DataFrame(columns=["trial_id", "seconds", "value", "best"])
    start = min(_started_at(history) for history in timed.values())
    frame = pd.DataFrame(
        {
            "trial_id": list(timed),
            "seconds": [float(h["timestamp"].iloc[-1]) - start for h in timed.values()],
            "value": [values[trial_id] for trial_id in timed],
        }
    ).sort_values("seconds", kind="stable", ignore_index=True)
    frame["best"] = best_so_far(frame["value"], mode)
    return frame


def _started_at(history: pd.DataFrame) -> float:
    first = history.iloc[0]
    return float(first["timestamp"]) - float(first.get("time_this_iter_s", 0.0) or 0.0)


def varying_config_columns(leaderboard: pd.DataFrame) -> list[str]:
    """The ``config.`` columns whose value (or absence) differs between rows.

    Example:
        >>> board = pd.DataFrame({"config.lr": [0.1, 0.2], "config.batch_size": [32, 32]})
        >>> varying_config_columns(board)
        ['config.lr']
    """
    return [
        name
        for name in leaderboard.columns
        if name.startswith(CONFIG_PREFIX) and leaderboard[name].nunique(dropna=False) > 1
    ]


def hyperparameter_importance(
    leaderboard: pd.DataFrame, metric: str, *, seed: int = 0
) -> Importance:
    """Importance of each varying hyperparameter for ``metric``, by a random forest.

    A :class:`~sklearn.ensemble.RandomForestRegressor` learns the metric from the config
    columns of the trials that have one (numbers as they are, other values as ordinal
    codes); a column's importance is its permutation importance: the mean drop in the
    forest's R² on those trials when the column is shuffled. Unlike impurity importance,
    it does not favour columns with many distinct values.

    Below :data:`MIN_TRIALS_FOR_IMPORTANCE` usable trials there are no scores and ``note``
    says ``not enough trials``.
    """
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    target = usable_metric(leaderboard, metric)
    usable = leaderboard[target.notna()]
    method = (
        f"random forest ({FOREST_TREES} trees) fit on the {len(usable)} trials with a "
        f"{metric} value, config columns ordinal-encoded; "
        f"permutation importance: mean drop in R² when a column is shuffled "
        f"({PERMUTATION_REPEATS} repeats)"
    )
    target = target[target.notna()]
    columns = varying_config_columns(usable)
    note = _importance_note(len(usable), columns, target)
    if note is not None:
        return Importance(method, pd.Series(dtype=float), note)
    features = pd.DataFrame({name: _encoded(usable[name]) for name in columns})
    forest = RandomForestRegressor(n_estimators=FOREST_TREES, random_state=seed, n_jobs=1)
    forest.fit(features, target)
    scores = permutation_importance(
        forest,
        features,
        target,
        n_repeats=PERMUTATION_REPEATS,
        random_state=seed,
        n_jobs=1,
    ).importances_mean
    named = pd.Series(scores, index=[name.removeprefix(CONFIG_PREFIX) for name in columns])
    return Importance(method, named.sort_values(ascending=False, kind="stable"))


def _importance_note(trials: int, columns: list[str], target: pd.Series) -> str | None:
    if trials < MIN_TRIALS_FOR_IMPORTANCE:
        return (
            f"not enough trials: {trials} with a {target.name or 'metric'} value, "
            f"at least {MIN_TRIALS_FOR_IMPORTANCE} needed"
        )
    if not columns:
        return "no hyperparameter varied between the trials"
    if target.nunique() < 2:
        return "the metric has the same value in every trial"
    return None


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _encoded(column: pd.Series) -> np.ndarray:
    """Numbers as floats (missing stays NaN); other values as codes, missing a code of its own."""
    if _is_numeric(column):
        return column.to_numpy(dtype=float)
    codes, _ = pd.factorize(column.astype(str).where(column.notna()), sort=True)
    return codes.astype(float)


def pareto_front(
    leaderboard: pd.DataFrame, metric: str, mode: str, cost: str = COST_COLUMN
) -> pd.DataFrame:
    """The trials no other trial beats on both ``cost`` (lower) and ``metric`` (by ``mode``).

    Trial A dominates trial B when A costs no more, scores no worse, and is strictly better
    on one of the two. Trials without a cost or a usable metric are left out.

    Returns:
        The non-dominated rows of ``leaderboard``, cheapest first.
    """
    values = usable_metric(leaderboard, metric)
    costs = pd.to_numeric(leaderboard[cost], errors="coerce")
    known = values.notna() & costs.notna()
    score = (values if mode == "max" else -values)[known].to_numpy()
    price = costs[known].to_numpy(dtype=float)
    # dominates[i, j]: trial j costs no more than i, scores no worse, and differs from it.
    dominates = (
        (price[None, :] <= price[:, None])
        & (score[None, :] >= score[:, None])
        & ((price[None, :] < price[:, None]) | (score[None, :] > score[:, None]))
    )
    front = leaderboard[known][~dominates.any(axis=1)]
    return front.sort_values(cost, kind="stable")


# -- figures -----------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _top_trials(leaderboard: pd.DataFrame, metric: str, top: int) -> list[str]:
    ranked = leaderboard[usable_metric(leaderboard, metric).notna()]
    return [str(trial_id) for trial_id in ranked["trial_id"].head(top)]


def _learning_curves_figure(
    histories: dict[str, pd.DataFrame], trial_ids: list[str], metric: str
) -> Figure:
    """Train loss, validation loss and the metric per epoch, one line per trial."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    panels = list(dict.fromkeys((*CURVE_COLUMNS, metric)))
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for axis, column in zip(axes[0], panels, strict=True):
        for trial_id in trial_ids:
            history = histories.get(trial_id, pd.DataFrame())
            if column in history and "epoch" in history:
                axis.plot(history["epoch"], history[column], marker="o", ms=4, label=trial_id)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.set_title(column)
        axis.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8, title="trial")
    figure.tight_layout()
    return figure


def _best_so_far_figure(by_trial: pd.DataFrame, by_time: pd.DataFrame, metric: str) -> Figure:
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    _plot_best(left, by_trial["trial"], by_trial, "trial (in the order proposed)", metric)
    if by_time.empty:
        right.text(0.5, 0.5, "the trials reported no timestamps", ha="center", va="center")
        right.set_axis_off()
    else:
        _plot_best(right, by_time["seconds"], by_time, "seconds since the search started", metric)
    figure.tight_layout()
    return figure


def _plot_best(axis: Axes, x: pd.Series, frame: pd.DataFrame, label: str, metric: str) -> None:
    axis.scatter(x, frame["value"], color="0.6", s=18, label="trial's value", zorder=2)
    axis.step(x, frame["best"], where="post", color="C3", linewidth=2, label="best so far")
    axis.set_xlabel(label)
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)


def _parallel_coordinates_figure(
    usable: pd.DataFrame, columns: list[str], metric: str, mode: str
) -> Figure:
    """One line per trial (each with a usable metric) across an axis per hyperparameter."""
    import matplotlib as mpl

    plt = _pyplot()
    values = usable_metric(usable, metric).to_numpy()
    axes_data = [_axis_positions(usable[name]) for name in [*columns, metric]]
    positions = np.column_stack([data[0] for data in axes_data])
    colors = mpl.colormaps["viridis" if mode == "max" else "viridis_r"]
    norm = mpl.colors.Normalize(np.min(values), np.max(values))
    figure, axis = plt.subplots(figsize=(max(7.0, 1.9 * len(axes_data)), 4.8))
    # Worst first, so the best trials are drawn on top.
    for row in np.argsort(values if mode == "max" else -values, kind="stable"):
        axis.plot(range(len(axes_data)), positions[row], color=colors(norm(values[row])), lw=1.6)
    for x, (_, ticks) in enumerate(axes_data):
        axis.axvline(x, color="0.2", linewidth=0.8)
        for y, text in ticks:
            axis.text(
                x + 0.04,
                y,
                text,
                fontsize=8,
                va="center",
                parse_math=False,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
            )
    names = [name.removeprefix(CONFIG_PREFIX) for name in columns] + [metric]
    axis.set_xticks(range(len(names)), labels=names, rotation=15, ha="right", parse_math=False)
    axis.set_yticks([])
    axis.set_ylim(MISSING_POSITION - 0.08, 1.08)
    axis.set_xlim(-0.2, len(names) - 0.4)
    figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colors), ax=axis, label=metric)
    figure.tight_layout()
    return figure


def _axis_positions(column: pd.Series) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Each row's height in [0, 1] on one parallel axis, and the axis's labelled ticks."""
    present = column.notna().to_numpy()
    positions = np.full(len(column), MISSING_POSITION)
    if _is_numeric(column):
        positions[present], ticks = _numeric_positions(column[present].to_numpy(dtype=float))
    else:
        positions[present], ticks = _category_positions(column[present].astype(str))
    if not present.all():
        ticks.append((MISSING_POSITION, "n/a"))
    return positions, ticks


def _numeric_positions(values: np.ndarray) -> tuple[np.ndarray, list[tuple[float, str]]]:
    low, high = float(values.min()), float(values.max())
    if low == high:
        return np.full(len(values), 0.5), [(0.5, _number(low))]
    log = low > 0 and high / low >= LOG_AXIS_RATIO
    scale = np.log10 if log else (lambda array: array)
    low_s, high_s = float(scale(low)), float(scale(high))
    middle = 10 ** ((low_s + high_s) / 2) if log else (low + high) / 2
    ticks = [
        (0.0, _number(low)),
        (0.5, _number(middle) + (" (log)" if log else "")),
        (1.0, _number(high)),
    ]
    return (scale(values) - low_s) / (high_s - low_s), ticks


def _category_positions(values: pd.Series) -> tuple[np.ndarray, list[tuple[float, str]]]:
    levels = sorted(values.unique())
    step = 1.0 / (len(levels) - 1) if len(levels) > 1 else 0.0
    height = {
        level: (index * step if len(levels) > 1 else 0.5) for index, level in enumerate(levels)
    }
    return values.map(height).to_numpy(dtype=float), [(height[lv], lv) for lv in levels]


def _pareto_figure(
    leaderboard: pd.DataFrame, front: pd.DataFrame, metric: str, cost: str = COST_COLUMN
) -> Figure:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    axis.scatter(
        leaderboard[cost],
        usable_metric(leaderboard, metric),
        color="0.6",
        s=22,
        label="trial",
        zorder=2,
    )
    axis.plot(
        front[cost],
        usable_metric(front, metric),
        color="C3",
        marker="o",
        drawstyle="steps-post",
        label="Pareto front",
        zorder=3,
    )
    for trial_id, x, y in zip(
        front["trial_id"], front[cost], usable_metric(front, metric), strict=True
    ):
        axis.annotate(
            str(trial_id),
            (x, y),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
            annotation_clip=False,
        )
    costs = pd.to_numeric(leaderboard[cost], errors="coerce").dropna()
    if len(costs) and costs.min() > 0 and costs.max() / costs.min() >= 10:
        axis.set_xscale("log")
    axis.set_xlabel("trainable parameters")
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def _image(figure: Figure, alt: str) -> str:
    """The figure as an ``<img>`` holding its PNG as a data URI; the figure is closed."""
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'


# -- HTML --------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px 32px;
       color: #1d232b; background: #fff; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 2px solid #dde3ea; padding-bottom: 4px; }
section { margin-bottom: 32px; } nav a { margin-right: 14px; }
.meta { color: #56606b; } .note { color: #8a5300; font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #dde3ea; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { background: #f1f4f7; white-space: normal; vertical-align: bottom; }
td.text { text-align: left; white-space: normal; }
tr.best td { background: #e9f7ec; font-weight: 600; }
.bar { display: inline-block; height: 10px; background: #4c78a8; vertical-align: middle; }
img { max-width: 100%; border: 1px solid #eef1f4; }
"""

SECTIONS = (
    ("leaderboard", "Leaderboard"),
    ("learning-curves", "Learning curves"),
    ("best-so-far", "Best so far"),
    ("parallel-coordinates", "Parallel coordinates"),
    ("importance", "Hyperparameter importance"),
    ("pareto-front", "Metric against parameter count"),
)


def write_report(result: SearchSummary, path: str | Path) -> Path:
    """Write the search's HTML report to ``path`` (folders created) and return the path.

    Example::

        path = write_report(result, "report.html")  # or result.report("report.html")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report_html(result), encoding="utf-8")
    return target


def report_html(result: SearchSummary) -> str:
    """The search's report as one self-contained HTML page."""
    board = result.leaderboard
    if board.empty or result.metric not in board:  # no trial started, or none reported
        bodies = {key: "<p>No trial reported a result.</p>\n" for key, _ in SECTIONS}
    else:
        bodies = _section_bodies(result)
    sections = "\n".join(
        f'<section id="{key}"><h2>{title}</h2>\n{bodies[key]}</section>' for key, title in SECTIONS
    )
    links = " ".join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Search report: {html.escape(result.metric)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header id="summary"><h1>Search report</h1>\n{_summary_html(result)}</header>\n'
        f"<nav>{links}</nav>\n{sections}\n</body>\n</html>\n"
    )


def _section_bodies(result: SearchSummary) -> dict[str, str]:
    board, metric, mode = result.leaderboard, result.metric, result.mode
    return {
        "leaderboard": _leaderboard_html(board, metric, result.best_trial_id),
        "learning-curves": _learning_curves_html(result),
        "best-so-far": _best_so_far_html(result),
        "parallel-coordinates": _parallel_coordinates_html(board, metric, mode),
        "importance": _importance_html(hyperparameter_importance(board, metric)),
        "pareto-front": _pareto_html(board, metric, mode),
    }


def _summary_html(result: SearchSummary) -> str:
    board = result.leaderboard
    statuses = board["status"].value_counts() if "status" in board else pd.Series(dtype=int)
    counts = ", ".join(f"{count} {status}" for status, count in statuses.items())
    reported = result.metric in board
    best = usable_metric(board, result.metric) if reported else pd.Series(dtype=float)
    best_value = best.max() if result.mode == "max" else best.min()
    facts = [
        ("trials", f"{len(board)} ({counts})" if counts else str(len(board))),
        ("metric", f"{result.metric} ({result.mode})"),
        ("best trial", f"{result.best_trial_id or 'none'} ({_number(best_value)})"),
        ("MLflow parent run", result.mlflow_parent_run_id or "none"),
        ("experiment", result.experiment_path),
        ("written", dt.datetime.now().isoformat(timespec="seconds")),
    ]
    items = "; ".join(f"<b>{name}</b>: {html.escape(str(value))}" for name, value in facts)
    return f'<p class="meta">{items}</p>'


def _leaderboard_html(board: pd.DataFrame, metric: str, best_trial_id: str | None) -> str:
    config = [name for name in board.columns if name.startswith(CONFIG_PREFIX)]
    varying = varying_config_columns(board)
    fixed = [name for name in config if name not in varying]
    leading = [
        "trial_id",
        metric,
        f"best_{metric}",
        *CURVE_COLUMNS,
        COST_COLUMN,
        "epochs",
        "status",
    ]
    trailing = [name for name in ("seconds", "reason") if name in board]
    columns = [name for name in dict.fromkeys(leading) if name in board] + varying + trailing
    header = ["rank", *(name.removeprefix(CONFIG_PREFIX) for name in columns)]
    rows = [[rank, *row] for rank, row in enumerate(board[columns].itertuples(index=False), 1)]
    classes = ["best" if trial_id == best_trial_id else "" for trial_id in board["trial_id"]]
    settings = ", ".join(
        f"{name.removeprefix(CONFIG_PREFIX)} = {_cell(board[name].iloc[0])}" for name in fixed
    )
    fixed_html = f"<p>Same in every trial: {settings}</p>\n" if fixed and len(board) else ""
    return (
        f"<p>One row per trial, best first by the last reported {html.escape(metric)}.</p>\n"
        f'{fixed_html}<div class="scroll">{_table(header, rows, classes)}</div>\n'
    )


def _learning_curves_html(result: SearchSummary) -> str:
    trial_ids = _top_trials(result.leaderboard, result.metric, TOP_TRIALS_IN_PLOTS)
    if not trial_ids:
        return _note("no trial reported the metric")
    figure = _learning_curves_figure(result.histories, trial_ids, result.metric)
    return (
        f"<p>Per epoch, the top {len(trial_ids)} trials.</p>\n"
        f"{_image(figure, 'learning curves of the top trials')}\n"
    )


def _best_so_far_html(result: SearchSummary) -> str:
    board, metric, mode = result.leaderboard, result.metric, result.mode
    if usable_metric(board, metric).notna().sum() == 0:
        return _note("no trial reported the metric")
    by_trial = best_so_far_by_trial(board, metric, mode)
    by_time = best_so_far_by_time(board, result.histories, metric, mode)
    figure = _best_so_far_figure(by_trial, by_time, metric)
    return (
        f"<p>The best {html.escape(metric)} ({html.escape(mode)}) found so far, against the "
        "trials in the order they were proposed and against the time at which each ended.</p>\n"
        f"{_image(figure, 'best value so far against trials and time')}\n"
    )


def _parallel_coordinates_html(board: pd.DataFrame, metric: str, mode: str) -> str:
    usable = board[usable_metric(board, metric).notna()]
    columns = varying_config_columns(usable)
    if usable.empty or not columns:
        return _note("no hyperparameter varied between the trials that reported the metric")
    figure = _parallel_coordinates_figure(usable, columns, metric, mode)
    return (
        "<p>One line per trial; each axis a hyperparameter that varied, the last one the "
        "metric. <i>n/a</i>: the trial has no such hyperparameter (a conditional one).</p>\n"
        f"{_image(figure, 'parallel coordinates of the hyperparameters')}\n"
    )


def _importance_html(importance: Importance) -> str:
    method = f"<p>Method: {html.escape(importance.method)}.</p>\n"
    if importance.note is not None:
        return method + _note(importance.note)
    top = max(float(importance.scores.max()), 1e-12)
    rows = [
        [name, score, f'<span class="bar" style="width:{max(score, 0) / top * 240:.0f}px"></span>']
        for name, score in importance.scores.items()
    ]
    return method + _table(["hyperparameter", "importance", ""], rows, raw_columns={2})


def _pareto_html(board: pd.DataFrame, metric: str, mode: str) -> str:
    if COST_COLUMN not in board:
        return _note(f"the leaderboard has no {COST_COLUMN} column")
    front = pareto_front(board, metric, mode)
    if front.empty:
        return _note(f"no trial reported both {metric} and {COST_COLUMN}")
    figure = _pareto_figure(board, front, metric)
    rows = [list(row) for row in front[["trial_id", COST_COLUMN, metric]].itertuples(index=False)]
    return (
        f"<p>The Pareto front: trials that no other trial beats on both {html.escape(metric)} "
        f"and parameter count ({len(front)} of {len(board)}).</p>\n"
        f"{_image(figure, 'metric against parameter count')}\n"
        f"{_table(['trial_id', COST_COLUMN, metric], rows)}\n"
    )


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>\n'


def _table(
    header: list[str],
    rows: list[list[Any]],
    classes: list[str] | None = None,
    raw_columns: set[int] | None = None,
) -> str:
    """An HTML table; every cell is escaped except those in ``raw_columns`` (our own markup)."""
    head = "".join(f"<th>{_breakable(name)}</th>" for name in header)
    body = []
    for index, row in enumerate(rows):
        cells = "".join(
            f"<td>{value}</td>" if column in (raw_columns or set()) else _td(value)
            for column, value in enumerate(row)
        )
        css = classes[index] if classes and classes[index] else ""
        body.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _breakable(name: str) -> str:
    """A header, escaped, that may wrap after its dots and underscores."""
    return html.escape(name).replace(".", ".<wbr>").replace("_", "_<wbr>")


def _td(value: Any) -> str:
    text_like = isinstance(value, str) or value is None
    return f'<td class="text">{_cell(value)}</td>' if text_like else f"<td>{_cell(value)}</td>"


def _cell(value: Any) -> str:
    """A table cell's text, escaped: numbers to 4 significant digits, missing as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_TEXT
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return html.escape(str(value))
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    return html.escape(str(value))


def _number(value: float) -> str:
    return MISSING_TEXT if math.isnan(value) else f"{value:.4g}"
