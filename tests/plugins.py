"""Test plugins (modules a search's trials import through ``search(plugins=...)``)."""

from __future__ import annotations

import sys


def forget_plugin(module: str, family: str) -> None:
    """Undo a plugin's import in this process: its model family and the module are gone.

    A search imports its plugins in the driver too; later tests must not see the family in
    the registry, and a later search must import (and register) the module afresh.
    """
    from automl_nn.models import _registry

    _registry._FAMILIES.pop(family, None)
    sys.modules.pop(module, None)
