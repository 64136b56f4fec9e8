"""python -m harness.mutants: the semantic mutation check (see harness.mutants)."""

import sys

from .run import main

sys.exit(main())
