"""A real `mlflow server` on 127.0.0.1 receives the same structure as a local store."""

from __future__ import annotations

import uuid

import pytest

from automl_nn import search
from tests.api.conftest import TINY_SPACE, parent_and_children

# In the slow tier: the default suite tracks real searches on the server through the CLI
# (tests/cli/test_cli_search.py) and through an outage (tests/tracking/test_tracking_outage.py).
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("ray_session")]


def test_search_tracked_in_a_real_mlflow_server(mlflow_server_uri, tmp_path) -> None:
    experiment = f"server-{uuid.uuid4().hex[:8]}"
    result = search(
        "wine", TINY_SPACE, searcher="random", scheduler="fifo", num_trials=3, max_epochs=2,
        tracking_uri=mlflow_server_uri, experiment=experiment, storage_path=str(tmp_path),
        verbose=False,
    )  # fmt: skip
    parents, children = parent_and_children(mlflow_server_uri, experiment)
    assert [p.info.run_id for p in parents] == [result.mlflow_parent_run_id]
    assert len(children) == 3
    assert all(c.data.tags["automl_nn.status"] == "completed" for c in children)
