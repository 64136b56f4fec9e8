"""The suite's pytest plugin as other projects load it: the ``pytest11`` entry point.

A project whose environment has ``epoll-semantics`` installed gets, with no conftest line,
the fixtures ``scripted`` / ``scripted_net`` (a kernel socket against the scripted TCP peer
on TUN), ``real`` / ``real_net`` / ``ack_mode`` (a real Linux peer over veth, its ACKs held or
delayed), ``record`` (facts for the report, timelines printed on failure) and
``kernel_rules``; the options ``--report-json``, ``--timelines``, ``--strict-skips`` ...; the
markers; and the start-up sweep of namespaces that killed runs left.
"""

pytest_plugins = [
    "harness.plugin.pytest_plugin",
    "harness.plugin.fixtures",
    "harness.plugin.fixtures_realpeer",
    "harness.plugin.collector",
    "harness.plugin.beside",
]
