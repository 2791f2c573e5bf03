"""``python -m conformance`` is ``bpcert``."""

import sys

from conformance.cli import main

sys.exit(main())
