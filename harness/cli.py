"""Command-line entry point: ``epoll-semantics SUBCOMMAND ...`` (also ``python -m harness``).

The commands live in the front-door room (:mod:`harness.frontdoor`); this module is the
name the package's console script points at.
"""

from __future__ import annotations

import sys

from harness.frontdoor.commands import SUBCOMMANDS, Subcommand, build_parser, main

__all__ = ["SUBCOMMANDS", "Subcommand", "build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
