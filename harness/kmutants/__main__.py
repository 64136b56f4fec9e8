"""python -m harness.kmutants: the kernel mutants (see harness.kmutants)."""

import sys

from .run import main

sys.exit(main())
