"""``python -m harness.guests ...``: the cross-kernel runs (see harness.guests.kernel_runs)."""

import sys

from harness.guests.kernel_runs import main

sys.exit(main())
