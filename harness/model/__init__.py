"""The model of the kernel's readiness rules: pure Python, no sockets, no root.

``masks`` names the epoll bits; ``rules`` predicts what ``tcp_poll()`` reports and which
wakeups the kernel makes (``EpollModel``, ``writeable``/``threshold``); ``versions`` chooses
the variant of each rule from the upstream release the kernel carries (``KernelRules``, the
``CHANGES`` with commit, mainline release and stable backports); ``transient`` models the
write-space tests inside one ACK (a witnessed ``Call``, or the ``AckBound`` of what the
accounting allows); ``rules_state`` adds the state changes; ``uring`` the io_uring poll
requests (one-shot and multishot) as waiters.  This room imports nothing else
of the harness, so every other room may use it and its unit tests run in milliseconds anywhere.
"""

from .rules import CHANGES, EpollModel, KernelRules, parse_release, threshold, writeable
from .transient import AckBound, Call

__all__ = ["CHANGES", "AckBound", "Call", "EpollModel", "KernelRules", "parse_release", "threshold", "writeable"]
