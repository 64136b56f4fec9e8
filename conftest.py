"""epoll-semantics: the suite's plugins (session set-up, report, fixtures).

Installed, the package loads them through its ``pytest11`` entry point (harness.plugin.entry);
naming the same modules here makes a plain checkout work too (pytest loads each once).
"""

pytest_plugins = ["harness.plugin.pytest_plugin", "harness.plugin.fixtures", "harness.plugin.fixtures_realpeer",
                  "harness.plugin.collector", "harness.plugin.beside"]
