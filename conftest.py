"""epoll-semantics: the suite's plugins (session set-up, report, fixtures)."""

pytest_plugins = ["harness.plugin.pytest_plugin", "harness.plugin.fixtures", "harness.plugin.fixtures_realpeer"]
