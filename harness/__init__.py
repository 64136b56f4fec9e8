"""epoll-semantics harness: everything the suite's tests stand on, one room per concern.

Rooms, lowest first; a room imports only the rooms listed for it (checked by
``tests/unit/test_architecture.py``), and ``netns`` (the network plumbing) imports none:

- ``model``: the kernel's readiness rules as a pure model (imports nothing of the harness).
- ``record``: the timeline of a case and its pcap (imports nothing of the harness).
- ``sockets``: reads and drives a socket: accounting, waiters, blocking writers, witnesses.
- ``peers``: the far side: the scripted TUN peer and its codec; the veth wire, gate, capture.
- ``cases``: a case, its steps and verdict, the claims and the scenario tables.
- ``plugin``: the pytest plugin and fixtures: capabilities, pacing, the session's report.
- ``reporting``: the JSON report, the table and the cross-kernel comparison.
- ``mutants``: the semantic mutation check (``make mutants``); it treats the repository as
  text and pytest as a command, so it imports nothing else of the harness.
- ``guests``: Debian kernels fetched (or your own by path) and booted under QEMU, and the
  runs inside them.
- ``kmutants``: the kernel mutants (``make kernel-mutants``): livepatch modules that change
  one readiness rule of a Debian kernel, booted in guests; imports guests, model and record.
- ``frontdoor``: the ``epoll-semantics`` commands (run, kernels, kernel-mutants, compare,
  summary, table, explain, show); imports model, record, reporting, guests and kmutants, and
  runs the suite as a pytest subprocess, never by importing the plugin.

``cli`` (``python -m harness``, the console script) and ``bench`` (``make bench``) sit on top
and may use any room.
"""
