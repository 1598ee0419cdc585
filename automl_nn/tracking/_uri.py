"""Where runs are stored: the tracking URI, its default, and a fail-fast check of it."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.file_utils import local_file_uri_to_path
from mlflow.utils.rest_utils import http_request

from automl_nn.errors import TrackingError

# Seconds a tracking server has to answer the check (MLflow's client would retry for minutes).
# A refused connection fails at once; a busy server on a loaded machine took over 5 s here.
SERVER_TIMEOUT_S = 15
# Stores MLflow opens itself; they are accepted as given and MLflow reports their errors.
_DATABASE_SCHEMES = ("postgresql", "mysql", "mssql", "databricks")
_VALID = (
    "an MLflow server (http://host:port), sqlite:///path/to/mlflow.db in a writable folder, "
    "a writable folder (file:///path/to/mlruns), or a postgresql, mysql or mssql database URI"
)


def resolve_tracking_uri(uri: str | None) -> str:
    """The tracking URI to use: ``uri``, else MLflow's own default.

    MLflow's default honours ``MLFLOW_TRACKING_URI`` and ``mlflow.set_tracking_uri``; with
    neither, it is ``sqlite:///<current folder>/mlflow.db`` (or ``./mlruns`` where such a store
    already holds runs), so ``mlflow ui`` started in the same folder shows the runs.

    Example:
        >>> resolve_tracking_uri("http://127.0.0.1:5000")
        'http://127.0.0.1:5000'
        >>> resolve_tracking_uri(None).startswith(("sqlite:///", "file://", "http"))
        True
    """
    return uri or mlflow.get_tracking_uri()


def check_tracking_uri(uri: str) -> None:
    """Fail fast, writing nothing, when runs cannot be stored at ``uri``.

    A server must answer a read-only request within :data:`SERVER_TIMEOUT_S` seconds; a
    sqlite database or a file store must lie in a folder that can be written.

    Raises:
        TrackingError: naming ``tracking_uri``, the value and what would be valid.

    Example:
        >>> check_tracking_uri("ftp://example.org/runs")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        automl_nn.errors.TrackingError: tracking_uri = 'ftp://example.org/runs' is not valid: ...
    """
    scheme = urlparse(uri).scheme.split("+")[0]
    if scheme in ("http", "https"):
        _check_server(uri)
    elif scheme == "sqlite":
        _check_sqlite(uri)
    elif scheme in ("file", ""):
        _check_folder(uri, Path(local_file_uri_to_path(uri)))
    elif scheme not in _DATABASE_SCHEMES:
        raise _error(uri, f"the scheme {scheme!r} is not a tracking store")


def _check_server(uri: str) -> None:
    try:
        http_request(
            get_default_host_creds(uri),
            "/api/2.0/mlflow/experiments/search",
            "GET",
            max_retries=0,
            backoff_factor=0,
            timeout=SERVER_TIMEOUT_S,
            params={"max_results": 1},
        ).raise_for_status()
    except MlflowException as error:
        raise _error(uri, f"the server does not answer within {SERVER_TIMEOUT_S} s") from error
    except OSError as error:  # requests' HTTPError: it answered, but not as an MLflow server
        raise _error(uri, f"the server did not answer as an MLflow server ({error})") from error


def _check_sqlite(uri: str) -> None:
    path = unquote(uri.removeprefix("sqlite:///").partition("?")[0])
    if not uri.startswith("sqlite:///") or path in ("", ":memory:"):
        raise _error(uri, "an in-memory database keeps no runs")
    database = Path(path)
    if not database.parent.is_dir():
        raise _error(uri, f"{str(database.parent)!r} is not an existing folder")
    if database.exists() and not os.access(database, os.W_OK):
        raise _error(uri, f"the database {path!r} cannot be written")
    _check_folder(uri, database.parent)


def _check_folder(uri: str, folder: Path) -> None:
    # MLflow creates a missing store folder, so the nearest folder that exists must be writable.
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise _error(uri, f"{str(existing)!r} is not a writable folder")


def _error(uri: str, problem: str) -> TrackingError:
    return TrackingError(f"tracking_uri = {uri!r} is not valid: {problem}; expected {_VALID}")
