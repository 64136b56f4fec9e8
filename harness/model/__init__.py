"""The model of the kernel's readiness rules: pure Python, no sockets, no root.

``masks`` names the epoll bits; ``rules`` predicts what ``tcp_poll()`` reports and which
wakeups the kernel makes (``EpollModel``, ``KernelRules`` with the version-dependent
changes it applies, ``writeable``/``threshold``); ``rules_state`` adds the state changes.
This room imports nothing else of the harness, so every other room may use it and its unit
tests run in milliseconds anywhere.
"""

from .rules import CHANGES, EpollModel, KernelRules, parse_release, threshold, writeable

__all__ = ["CHANGES", "EpollModel", "KernelRules", "parse_release", "threshold", "writeable"]
