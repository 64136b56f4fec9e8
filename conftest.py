"""epoll-semantics: the suite's plugins (session set-up, report, fixtures)."""

pytest_plugins = ["harness.pytest_plugin", "harness.fixtures", "harness.fixtures_realpeer"]
