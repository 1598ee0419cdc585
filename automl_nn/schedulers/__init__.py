"""Trial schedulers (who stops or perturbs trials): factories over Ray Tune's own.

Example:
    >>> make_scheduler("asha", max_epochs=27).__class__.__name__
    'AsyncHyperBandScheduler'
"""

from __future__ import annotations

from automl_nn.schedulers._factories import (
    PBT_MUTATIONS,
    list_schedulers,
    make_scheduler,
)

__all__ = ["PBT_MUTATIONS", "list_schedulers", "make_scheduler"]
