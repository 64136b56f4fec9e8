"""epoll-semantics harness: helpers that run around the pytest suite (reports, comparison, CLI)."""
