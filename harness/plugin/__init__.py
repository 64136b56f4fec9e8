"""The pytest plugin and its fixtures: the session's set-up (sweep, capability probes, the
report header, SIGTERM/SIGHUP as a teardown: ``signals``), skips that name what is missing
(``capabilities``), the pace of this
machine for timed ACK delays (``pace``), the fixtures of scripted and real-peer cases and
the JSON report of the session.
It may import every room below it (``model``, ``record``, ``sockets``, ``peers``,
``cases``, ``reporting``) and ``netns``; never ``guests``.
"""
