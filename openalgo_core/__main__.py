"""``python -m openalgo_core`` is the ``openalgo`` command."""

import sys

from .cli import main

sys.exit(main())
