"""The ``automl-nn`` command: a thin layer over :func:`automl_nn.api.search`.

Every flag of ``automl-nn search`` maps onto one argument of ``search()`` and defaults to
the api's default. Exit codes: 0 success, 2 bad input (any :class:`AutomlNNError` and usage
errors, reported as one line), 1 any other failure (one line; ``--debug`` shows the
traceback), 130 interrupted.

Example::

    automl-nn search --dataset wine --space quick --trials 8 --budget 5m
    automl-nn search --csv penguins.csv --target species --searcher random --no-retrain
    automl-nn show automl_nn --tracking-uri sqlite:///mlflow.db
    automl-nn sync automl_nn_runs/automl_nn_20250101-120000-000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from automl_nn import __version__
from automl_nn.defaults import (
    AUTO_RETRAIN_SEEDS,
    AUTO_RETRAIN_SEEDS_BELOW_SAMPLES,
    DEFAULT_EXPERIMENT,
    DEFAULT_MAX_EPOCHS,
    DEFAULT_MAX_FAILURES,
    DEFAULT_NUM_TRIALS,
    DEFAULT_RETRAIN_SEEDS,
    DEFAULT_RETRAIN_TOP_K,
    DEFAULT_SCHEDULER,
    DEFAULT_SEARCHER,
)
from automl_nn.errors import AutomlNNError, ConfigError, SearchError, TrackingWriteError

if TYPE_CHECKING:
    from automl_nn.data import TaskData
    from automl_nn.results import SearchResult

PROG = "automl-nn"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smh]?)")
_SECONDS_PER_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}
# search() argument -> the flag that sets it, where their names differ (for error messages).
_FLAG_OF_FIELD = {
    "num_trials": "--trials",
    "max_epochs": "--epochs",
    "resources_per_trial.cpu": "--cpus-per-trial",
    "resources_per_trial.gpu": "--gpus-per-trial",
    "storage_path": "--storage",
    "ray_address": "--address",
    "registered_model_name": "--register-model",
    "searcher_options": "--searcher-option",
    "trial_timeout_s": "--trial-timeout",
    "max_failures": "--max-failures",
    "plugins": "--plugin",
    "cv_folds": "--cv-folds",
}


class _UsageError(Exception):
    """The command line does not parse (argparse's own checks)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that hands usage errors back to :func:`main` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def parse_duration(text: str, flag: str = "--budget") -> float:
    """Seconds in a duration: plain seconds (``300``) or a number with ``s``, ``m`` or ``h``.

    Raises:
        ConfigError: for anything else, zero and negative durations included.

    Example:
        >>> parse_duration("90s"), parse_duration("10m"), parse_duration("1.5h")
        (90.0, 600.0, 5400.0)
    """
    match = _DURATION.fullmatch(text.strip().lower())
    seconds = float(match[1]) * _SECONDS_PER_UNIT[match[2]] if match else 0.0
    if seconds <= 0:
        raise ConfigError(
            flag, text, "a duration > 0: seconds (300) or a number with s, m or h (90s, 10m)"
        )
    return seconds


def parse_searcher_options(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a dict; a value is read as JSON when it parses, else kept as text.

    Example:
        >>> parse_searcher_options(["sampler=random", "n_startup_trials=5"])
        {'sampler': 'random', 'n_startup_trials': 5}
    """
    options: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not (equals and key.strip()):
            raise ConfigError(
                "--searcher-option", pair, "KEY=VALUE, e.g. sampler=random or n_startup_trials=5"
            )
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def parse_cv_folds(text: str) -> int | str | None:
    """``--cv-folds``: ``auto``, ``none`` or a whole number (search() checks its range).

    Example:
        >>> parse_cv_folds("5"), parse_cv_folds("none"), parse_cv_folds("auto")
        (5, None, 'auto')
    """
    if text.strip().lower() in ("auto", "none"):
        return None if text.strip().lower() == "none" else "auto"
    try:
        return int(text)
    except ValueError:
        raise ConfigError("--cv-folds", text, "auto, none, or a whole number >= 2") from None


def parse_retrain_options(seeds: str, top_k: str) -> dict[str, int | str]:
    """``retrain_best``'s ``seeds`` and ``top_k`` from ``--retrain-seeds`` and ``--retrain-top-k``.

    Each is checked as ``retrain_best`` checks it, before the search starts.

    Example:
        >>> parse_retrain_options("auto", "3")
        {'seeds': 'auto', 'top_k': 3}
    """
    from automl_nn.results import check_retrain_seeds, check_retrain_top_k

    return {
        "seeds": _parse_count(seeds, "--retrain-seeds", check_retrain_seeds),
        "top_k": _parse_count(top_k, "--retrain-top-k", check_retrain_top_k),
    }


def _parse_count(text: str, flag: str, check: Callable[[Any], object]) -> int | str:
    """A whole number (or a word such as ``auto``) that ``check`` accepts; else the flag's error."""
    count: int | str = text.strip().lower()
    with contextlib.suppress(ValueError):
        count = int(text)
    try:
        check(count)
    except ConfigError as error:
        raise ConfigError(flag, text, error.expected) from None
    return count


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``automl-nn`` and its commands."""
    parser = _Parser(
        prog=PROG,
        description="AutoML and neural architecture search for PyTorch on Ray Tune and MLflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_search_command(commands, common)
    spaces = commands.add_parser(
        "spaces", parents=[common], help="list the packaged search spaces, one per line"
    )
    spaces.set_defaults(handler=_run_spaces)
    datasets = commands.add_parser(
        "datasets", parents=[common], help="list the built-in data sets with their shapes"
    )
    datasets.set_defaults(handler=_run_datasets)
    _add_show_command(commands, common)
    _add_resume_command(commands, common)
    _add_sync_command(commands, common)
    return parser


def _add_search_command(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "search",
        parents=[common],
        help="search architectures and training recipes, then retrain and test the best",
        description="Search architectures and training recipes together on Ray Tune, track "
        "every trial in MLflow, then retrain the best config on train+val and test it.",
    )
    _add_data_flags(command.add_argument_group("data"))
    _add_how_flags(command.add_argument_group("what and how to search"))
    _add_budget_flags(command.add_argument_group("budgets"))
    _add_resource_flags(command.add_argument_group("resources"))
    _add_tracking_flags(command.add_argument_group("tracking and output"))
    command.set_defaults(handler=_run_search)


def _add_data_flags(group: argparse._ArgumentGroup) -> None:
    """Where the data comes from: a built-in set or a CSV file."""
    source = group.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--dataset", metavar="NAME", help="a built-in data set (automl-nn datasets)"
    )
    source.add_argument("--csv", metavar="PATH", type=Path, help="a CSV file, one row a sample")
    group.add_argument("--target", metavar="COLUMN", help="the target column of --csv")


def _add_how_flags(group: argparse._ArgumentGroup) -> None:
    """The space, the searcher and scheduler, and what they optimize."""
    group.add_argument(
        "--space",
        metavar="NAME_OR_PATH",
        default="default",
        help="a packaged space (automl-nn spaces) or a YAML path (default: %(default)s)",
    )
    group.add_argument(
        "--searcher",
        metavar="NAME",
        default=DEFAULT_SEARCHER,
        help="who proposes configs (default: %(default)s)",
    )
    group.add_argument(
        "--scheduler",
        metavar="NAME",
        default=DEFAULT_SCHEDULER,
        help="who stops trials early (default: %(default)s)",
    )
    group.add_argument(
        "--searcher-option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a searcher setting, repeatable; VALUE is read as JSON when it parses",
    )
    group.add_argument(
        "--metric",
        metavar="NAME",
        help="metric to optimize (default: val_accuracy for classes, val_mse for regression)",
    )
    group.add_argument("--mode", choices=("min", "max"), help="inferred from the metric")
    group.add_argument(
        "--cv-folds",
        metavar="K",
        default="auto",
        help="each trial cross-validates on K folds of train+val; 'none' validates on the "
        "validation split; 'auto' (default): 5 folds below 250 validation samples, else none",
    )
    group.add_argument(
        "--seed",
        metavar="N",
        type=int,
        default=0,
        help="seeds the searcher and every trial (default: %(default)s)",
    )


def _add_budget_flags(group: argparse._ArgumentGroup) -> None:
    """How many trials, how long, how many epochs."""
    group.add_argument(
        "--trials",
        metavar="N",
        type=int,
        default=DEFAULT_NUM_TRIALS,
        help="the trial budget (default: %(default)s)",
    )
    group.add_argument(
        "--budget",
        metavar="DURATION",
        help="a wall-clock budget: 300, 90s, 10m or 2h (default: none)",
    )
    group.add_argument(
        "--epochs",
        metavar="N",
        type=int,
        default=DEFAULT_MAX_EPOCHS,
        help="epochs of a trial no scheduler stops (default: %(default)s)",
    )


def _add_resource_flags(group: argparse._ArgumentGroup) -> None:
    """What each trial gets and where the trials run."""
    group.add_argument(
        "--max-concurrent",
        metavar="N",
        type=int,
        help="trials at once (default: as resources allow)",
    )
    group.add_argument(
        "--cpus-per-trial", metavar="N", type=float, help="CPUs per trial (default: search()'s)"
    )
    group.add_argument(
        "--gpus-per-trial",
        metavar="N",
        type=float,
        help="GPUs per trial, fractions allowed (default: search()'s)",
    )
    group.add_argument(
        "--address",
        metavar="ADDRESS",
        help="Ray cluster to join: auto, ray://host:10001 or host:port",
    )
    group.add_argument(
        "--storage",
        metavar="DIR",
        help="folder (or s3:// URI) of the search folders (default: ./automl_nn_runs)",
    )
    group.add_argument(
        "--shared-storage",
        action="store_true",
        help="--storage is a folder every cluster node mounts (NFS)",
    )
    group.add_argument(
        "--max-failures",
        metavar="N",
        type=int,
        default=DEFAULT_MAX_FAILURES,
        help="retries of a failed trial from its checkpoint (default: %(default)s)",
    )
    group.add_argument(
        "--trial-timeout",
        metavar="DURATION",
        help="end a trial that trains longer than this as timed_out (90s, 10m, 2h)",
    )
    group.add_argument(
        "--plugin",
        metavar="MODULE",
        action="append",
        default=[],
        help="module every trial imports first (registers your model families); repeatable",
    )


def _add_tracking_flags(group: argparse._ArgumentGroup) -> None:
    """Where the runs are tracked and what happens after the search."""
    group.add_argument(
        "--tracking-uri", metavar="URI", help="MLflow tracking URI (MLflow's default)"
    )
    group.add_argument(
        "--experiment",
        metavar="NAME",
        default=DEFAULT_EXPERIMENT,
        help="MLflow experiment name, also names the search folder (default: %(default)s)",
    )
    group.add_argument(
        "--register-model",
        metavar="NAME",
        help="register the best trial's model and the final model in MLflow under NAME "
        "(aliases best_trial_model and final_model)",
    )
    group.add_argument(
        "--no-retrain", action="store_true", help="skip retraining and testing the best config"
    )
    _add_retrain_flags(group)
    group.add_argument(
        "--export", metavar="DIR", type=Path, help="write the final model (TorchScript) to DIR"
    )
    group.add_argument("--quiet", action="store_true", help="no live progress lines")
    group.add_argument("--no-tracking", action="store_true", help="write nothing to MLflow")


def _add_resume_command(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "resume",
        parents=[common],
        help="continue a search whose driver stopped, from its search folder",
    )
    command.add_argument("path", metavar="PATH", type=Path, help="the search folder")
    command.add_argument("--quiet", action="store_true", help="no live progress lines")
    command.add_argument(
        "--no-retrain", action="store_true", help="skip retraining and testing the best config"
    )
    _add_retrain_flags(command)
    command.set_defaults(handler=_run_resume)


def _add_retrain_flags(group: Any) -> None:
    group.add_argument(
        "--retrain-seeds",
        metavar="N",
        default=DEFAULT_RETRAIN_SEEDS,
        help="retrain each final config from N seeds; the final model averages their outputs "
        f"(default: %(default)s, {AUTO_RETRAIN_SEEDS} when the trials cross-validated or "
        f"train+val holds fewer than {AUTO_RETRAIN_SEEDS_BELOW_SAMPLES} samples, else 1)",
    )
    group.add_argument(
        "--retrain-top-k",
        metavar="K",
        default=str(DEFAULT_RETRAIN_TOP_K),
        help="retrain the configs of the top K trials; the final model averages their "
        "predictions (default: %(default)s, the best config alone)",
    )


def _add_show_command(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "show",
        parents=[common],
        help="print the leaderboard of a search, read back from MLflow",
        description="Print the trials of a search as tracked in MLflow: the latest search of "
        "EXPERIMENT, or the one whose parent run is --run.",
    )
    command.add_argument("experiment", metavar="EXPERIMENT", help="MLflow experiment name")
    command.add_argument(
        "--tracking-uri", metavar="URI", help="MLflow tracking URI (MLflow's default)"
    )
    command.add_argument(
        "--run", dest="run_id", metavar="PARENT_RUN_ID", help="the search's parent run"
    )
    command.set_defaults(handler=_run_show)


def _add_sync_command(commands: Any, common: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "sync",
        parents=[common],
        help="send the tracking data a search kept on disk while MLflow was down",
        description="Send to MLflow, in order, what a search kept in PATH/pending_tracking.jsonl "
        "while its tracking server did not answer. Exit codes: 0 sent (or nothing to send), "
        "1 the server still does not answer (the file is kept) or refused some of it, "
        "2 PATH is not the folder of a tracked search.",
    )
    command.add_argument("path", metavar="PATH", type=Path, help="the search folder")
    command.set_defaults(handler=_run_sync)


def main(argv: list[str] | None = None) -> int:
    """Run ``automl-nn`` with ``argv`` (default: the process's arguments); return the exit code.

    Example:
        >>> main(["spaces"])  # doctest: +SKIP
        default
        quick
        0
    """
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as error:
        return _report(str(error), EXIT_BAD_INPUT)
    except SystemExit as stop:  # --help and --version print, then stop
        return int(stop.code or EXIT_OK)
    try:
        return args.handler(args)
    except (SearchError, TrackingWriteError) as error:  # the input was fine; the run failed
        _traceback_if(args.debug)
        return _report(str(error), EXIT_FAILURE)
    except AutomlNNError as error:
        _traceback_if(args.debug)
        return _report(_with_flag(error), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _report("interrupted", EXIT_INTERRUPTED)
    except Exception as error:
        _traceback_if(args.debug)
        lines = str(error).strip().splitlines() or [""]
        hint = "" if args.debug else " (rerun with --debug for the traceback)"
        return _report(f"{type(error).__name__}: {lines[0]}{hint}", EXIT_FAILURE)


def _report(message: str, code: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _traceback_if(debug: bool) -> None:
    if debug:
        traceback.print_exc()


def _with_flag(error: AutomlNNError) -> str:
    field = str(getattr(error, "field", ""))
    flag = _FLAG_OF_FIELD.get(field) or _FLAG_OF_FIELD.get(field.split(".")[0])
    return f"{error} (set by {flag})" if flag else str(error)


def _run_search(args: argparse.Namespace) -> int:
    from automl_nn._cli_report import print_search_report, print_test_metrics
    from automl_nn.api import search
    from automl_nn.tracking import resolve_tracking_uri

    retrain = parse_retrain_options(args.retrain_seeds, args.retrain_top_k)
    result = search(
        _search_data(args),
        args.space,
        searcher=args.searcher,
        scheduler=args.scheduler,
        num_trials=args.trials,
        time_budget_s=None if args.budget is None else parse_duration(args.budget),
        max_epochs=args.epochs,
        metric=args.metric,
        mode=args.mode,
        seed=args.seed,
        max_concurrent=args.max_concurrent,
        resources_per_trial=_resources(args),
        tracking_uri=args.tracking_uri,
        experiment=args.experiment,
        ray_address=args.address,
        storage_path=args.storage,
        registered_model_name=args.register_model,
        searcher_options=parse_searcher_options(args.searcher_option),
        tracking=not args.no_tracking,
        shared_storage=args.shared_storage,
        max_failures=args.max_failures,
        trial_timeout_s=None
        if args.trial_timeout is None
        else parse_duration(args.trial_timeout, "--trial-timeout"),
        plugins=args.plugin,
        verbose=not args.quiet,
        cv_folds=parse_cv_folds(args.cv_folds),
    )
    print_search_report(result)
    if not args.no_retrain:
        print_test_metrics(result.retrain_best(**retrain))
    if args.export is not None:
        if result.final is None:  # --no-retrain: the export retrains, as the flags say
            result.retrain_best(**retrain)
        folder = result.export(args.export)
        if args.no_retrain:
            print_test_metrics(result.final)
        print(f"\nExported the final model to {folder}")
    print(f"\nSearch folder: {result.experiment_path}")
    _print_mlflow_hint(resolve_tracking_uri(args.tracking_uri), args.experiment, result)
    return EXIT_OK


def _run_resume(args: argparse.Namespace) -> int:
    from automl_nn._cli_report import print_search_report, print_test_metrics
    from automl_nn.api import resume

    retrain = parse_retrain_options(args.retrain_seeds, args.retrain_top_k)
    result = resume(args.path, verbose=False if args.quiet else None)
    print_search_report(result)
    if not args.no_retrain:
        print_test_metrics(result.retrain_best(**retrain))
    print(f"\nSearch folder: {result.experiment_path}")
    return EXIT_OK


def _search_data(args: argparse.Namespace) -> TaskData | str:
    """The data set name, or the CSV file read as TaskData."""
    if args.csv is None:
        if args.target is not None:
            raise ConfigError("--target", args.target, "--target only together with --csv")
        return args.dataset
    if args.target is None:
        raise ConfigError("--target", None, "the name of the target column of the --csv file")
    from automl_nn.data import from_csv

    return from_csv(args.csv, args.target, seed=args.seed)


def _resources(args: argparse.Namespace) -> dict[str, float] | None:
    given = {"cpu": args.cpus_per_trial, "gpu": args.gpus_per_trial}
    return {key: value for key, value in given.items() if value is not None} or None


def _print_mlflow_hint(tracking_uri: str, experiment: str, result: SearchResult) -> None:
    print(f"MLflow: parent run {result.mlflow_parent_run_id} in experiment {experiment!r}")
    if tracking_uri.startswith(("http://", "https://")):
        print(f"  open the MLflow UI: {tracking_uri}")
    else:
        print(f"  open the MLflow UI: mlflow ui --backend-store-uri {tracking_uri}")
    print(
        f"  read it back: {PROG} show {experiment} --tracking-uri {tracking_uri} "
        f"--run {result.mlflow_parent_run_id}"
    )


def _run_spaces(args: argparse.Namespace) -> int:
    from automl_nn.space import list_spaces

    print("\n".join(list_spaces()))
    return EXIT_OK


def _run_datasets(args: argparse.Namespace) -> int:
    from automl_nn._cli_report import datasets_table

    print(datasets_table())
    return EXIT_OK


def _run_show(args: argparse.Namespace) -> int:
    from automl_nn._cli_report import print_stored_search
    from automl_nn._cli_show import read_search

    print_stored_search(read_search(args.experiment, args.tracking_uri, args.run_id))
    return EXIT_OK


def _run_sync(args: argparse.Namespace) -> int:
    from automl_nn.api import read_search_file
    from automl_nn.tracking import PENDING_FILE, send_pending_tracking

    plan, parent_run_id = read_search_file(args.path)
    if not (plan.tracking and plan.tracking_uri and parent_run_id):
        raise ConfigError("path", str(args.path), "the folder of a search tracked in MLflow")
    folder, uri = Path(plan.folder), plan.tracking_uri
    if not (folder / PENDING_FILE).exists():
        print(f"Nothing to send: {folder} holds no tracking data that waits for MLflow")
        return EXIT_OK
    outcome = send_pending_tracking(folder, uri, plan.experiment, parent_run_id)
    sent = sum(outcome.sent.values())
    if sent or not outcome.remaining:
        counts = ", ".join(f"{count} {name}" for name, count in sorted(outcome.sent.items()))
        print(f"Sent {sent} tracking operations to MLflow at {uri}" + (counts and f": {counts}"))
    for rejected in outcome.rejected:
        print(f"  refused by the server, dropped: {rejected}")
    if outcome.remaining:
        return _report(
            f"MLflow at {uri} does not answer; {outcome.remaining} tracking operations stay in "
            f"{folder / PENDING_FILE}: run '{PROG} sync {folder}' again once it answers",
            EXIT_FAILURE,
        )
    if outcome.rejected:
        return _report(f"the server refused {len(outcome.rejected)} operations", EXIT_FAILURE)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
