"""The searcher options a benchmark's search runs with today, and those a stored one ran with.

Searches stored by a long benchmark count in later reports only if they ran as today's would;
for rl and evolution that includes the searcher's options, defaults filled in.
"""

from __future__ import annotations

from typing import Any

# Options added after searches were stored, at the value that reproduces how those ran
# (rl's outlier_share came on 2026-11-28; before, every reward counted as it was).
OPTIONS_ADDED_SINCE: dict[str, dict[str, Any]] = {"rl": {"outlier_share": 0.0}}


def options_in_full(searcher: str, chosen: dict[str, Any] | None = None) -> dict[str, Any]:
    """``chosen`` over the defaults of ``searcher``'s options ({} for one without defaults).

    Example:
        >>> options_in_full("evolution", {"population_size": 8})["population_size"]
        8
        >>> options_in_full("random")
        {}
    """
    from automl_nn.searchers._evolution import EVOLUTION_OPTIONS
    from automl_nn.searchers._rl import RL_OPTIONS

    rules = {"evolution": EVOLUTION_OPTIONS, "rl": RL_OPTIONS}.get(searcher, {})
    return {key: option.default for key, option in rules.items()} | (chosen or {})


def options_stored_with(
    searcher: str,
    recorded: dict[str, Any] | None,
    *,
    chosen: dict[str, Any] | None = None,
    before_recording: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The options a stored search of ``searcher`` ran with, in full.

    ``recorded``: the options the benchmark stored with it, or None where it stored none (the
    search then ran with today's, ``chosen`` over the defaults, and ``before_recording`` over
    those). Options added since it was stored take the values that reproduce how it ran.

    Example:
        >>> options_stored_with("rl", {"batch_size": 4})["outlier_share"]
        0.0
        >>> options_stored_with("rl", None, before_recording={"batch_size": 4})["batch_size"]
        4
    """
    since = options_in_full(searcher, chosen) | OPTIONS_ADDED_SINCE.get(searcher, {})
    return since | ((before_recording or {}) if recorded is None else recorded)
