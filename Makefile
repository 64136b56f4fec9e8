# epoll-semantics: every target installs what it needs, idempotently.
# A second run reinstalls nothing: the stamps below change only when their inputs do.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMPS := .stamps
REPORTS ?= reports

# Debian packages the suite uses at run time (iproute2/iptables for inspection and the
# NFQUEUE rule, libnetfilter-queue for the gate, qemu and friends for the guest kernels).
DEBS ?= python3-venv iproute2 iptables libnetfilter-queue-dev kmod chromium

PYTEST_ARGS ?=

.PHONY: all setup test unit report bench clean

all: test

$(STAMPS)/debs: Makefile
	@mkdir -p $(STAMPS)
	@missing=$$(for p in $(DEBS); do \
	dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	echo "installing Debian packages:" $$missing; \
	apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/debs
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[gate,compare]'
	@touch $@

setup: $(STAMPS)/venv

## The project's tests: unit tests (no root needed) and the scenarios on this kernel.
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

## Only the tests that need no root and no network namespaces.
unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

## Run the scenarios against this machine's kernel, write reports/<release>.json, print the table.
report: setup
	$(PY) -m pytest -q --report-json=$(REPORTS)/$$(uname -r).json --captures-dir=$(REPORTS)/captures $(PYTEST_ARGS) tests || true
	$(PY) -m harness table $(REPORTS)/$$(uname -r).json

## Repeat the suite and print median wall time per scenario.
bench: setup
	$(PY) -m harness.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(STAMPS) build *.egg-info
