"""``python -m automl_nn``: the ``automl-nn`` command."""

from __future__ import annotations

import sys

from automl_nn.cli import main

if __name__ == "__main__":
    sys.exit(main())
