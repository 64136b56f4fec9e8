# epoll-semantics: every target installs what it needs, idempotently.
# A second run reinstalls nothing: the stamps below change only when their inputs do.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMPS := .stamps
REPORTS ?= reports

# Debian packages the suite uses at run time (iproute2/iptables for inspection and the
# NFQUEUE rule, libnetfilter-queue for the gate, qemu and friends for the guest kernels).
# NetfilterQueue has no wheel for every Python: pip builds it, with gcc and the headers.
DEBS ?= python3-venv python3-dev gcc libc6-dev iproute2 iptables libnetfilter-queue-dev kmod chromium qemu-system-x86 busybox-static

PYTEST_ARGS ?=

.PHONY: all setup test unit report bench kernels compare bench-kernels container-check clean

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

## The project's tests: unit tests (no root needed), the scenarios on this kernel, and the
## scenarios inside one guest kernel (EPS_GUEST_KERNEL, default 6.12), where netem exists.
test: setup
	EPS_GUEST=1 $(PY) -m pytest $(PYTEST_ARGS)

## Only the tests that need no root and no network namespaces.
unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

## Run the scenarios against this machine's kernel, write reports/<release>.json, print the table.
report: setup
	$(PY) -m pytest -q --report-json=$(REPORTS)/$$(uname -r).json --captures-dir=$(REPORTS)/captures $(PYTEST_ARGS) tests --ignore=tests/unit --ignore=tests/guest --ignore=tests/test_degraded.py || true
	$(PY) -m harness table $(REPORTS)/$$(uname -r).json

## Repeat the suite and print median wall time per scenario.
bench: setup
	$(PY) -m harness.bench $(BENCH_ARGS)

KERNELS ?= 5.10 6.1 6.12 7

## Run the scenarios inside each of KERNELS under QEMU: reports/kernels/<release>/report.json.
## Exit 1: some kernel's suite failed; exit 2: a kernel could not be fetched or booted.
# The comparison is written whatever the kernels did, so `make kernels && make compare` and a
# plain `make kernels` both leave reports/compare.html behind.
KERNELS_VERDICT = && $(MAKE) --no-print-directory compare || { rc=$$?; $(MAKE) --no-print-directory compare; \
	  if [ $$rc -eq 1 ]; then echo "kernels: the suite failed inside some kernel (a behaviour difference or a bug): exit 1"; \
	  else echo "kernels: infrastructure failure (download, boot or timeout): exit $$rc"; fi; exit $$rc; }

kernels: setup
	$(PY) -m harness.guests run --suite --kernels "$(KERNELS)" --out $(REPORTS)/kernels $(KERNELS_VERDICT)

## Put every report side by side: reports/compare.md and reports/compare.html.
compare: setup
	$(PY) -m harness compare --out $(REPORTS) $$(ls $(REPORTS)/*.json $(REPORTS)/kernels/*/report.json 2>/dev/null)

## Boot-to-results time per kernel and in total, for the whole suite.
bench-kernels: setup
	$(PY) -m harness.guests run --suite --bench --kernels "$(KERNELS)" --out $(REPORTS)/kernels $(KERNELS_VERDICT)

## A fresh Debian 12 machine as the CI container sees it: a minimal root built once with
## debootstrap (cached in .cache/container), entered with private mount, PID and UTS
## namespaces and /dev/net/tun bound in; a clone of HEAD runs `make report` and `make test`.
container-check:
	@command -v debootstrap >/dev/null || { apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null; }
	ci/container-check.sh

clean:
	rm -rf $(VENV) $(STAMPS) build *.egg-info
