# epoll-semantics: every target installs what it needs, and only that, idempotently.
# A second run reinstalls nothing: the stamps below change only when their inputs do.
# The targets call the front door, `epoll-semantics` (harness/frontdoor/), whose exit code
# is the run's: 0 passed, 1 a case failed or errored, 5 nothing ran, 2 bad input or infrastructure.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/epoll-semantics
STAMPS := .stamps
REPORTS ?= reports

# Debian packages, by what needs them: the scenarios (iproute2/iptables for inspection and
# the NFQUEUE rule, libnetfilter-queue for the gate), the guest kernels (QEMU, busybox for
# the initramfs), and the browser the HTML comparison's tests render it in.
# NetfilterQueue has no wheel for every Python: pip builds it, with gcc and the headers.
DEBS_RUN    ?= python3-venv python3-dev gcc libc6-dev iproute2 iptables libnetfilter-queue-dev kmod
DEBS_GUESTS ?= qemu-system-x86 busybox-static
DEBS_BROWSER ?= chromium
# Building the kernel mutants' livepatch module: the compiler Debian's 6.1 kernels were built
# with, and what Debian's linux-kbuild tools link against.
DEBS_KMUTANTS ?= gcc-12 make libc6-dev libelf1 libssl3 patch

PYTEST_ARGS ?=

.PHONY: all setup test unit report bench kernels compare guide bench-kernels mutants kernel-mutants container-check clean

all: test

# $(call debs,PACKAGES): install whichever of PACKAGES is missing.
define debs
	@mkdir -p $(STAMPS)
	@missing=$$(for p in $(1); do \
	dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	echo "installing Debian packages:" $$missing; \
	apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@
endef

$(STAMPS)/debs-run: Makefile
	$(call debs,$(DEBS_RUN))
$(STAMPS)/debs-guests: Makefile
	$(call debs,$(DEBS_GUESTS))
$(STAMPS)/debs-browser: Makefile
	$(call debs,$(DEBS_BROWSER))
$(STAMPS)/debs-kmutants: Makefile
	$(call debs,$(DEBS_KMUTANTS))

$(STAMPS)/venv: pyproject.toml $(STAMPS)/debs-run
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[gate,ci]'
	@touch $@

# matplotlib, for the plots of compare.html
$(STAMPS)/venv-compare: $(STAMPS)/venv
	$(PY) -m pip install -q --disable-pip-version-check -e '.[gate,compare,ci]'
	@touch $@

setup: $(STAMPS)/venv-compare $(STAMPS)/debs-guests $(STAMPS)/debs-browser

## The project's tests: unit tests (no root needed), the scenarios on this kernel, the
## packaging test, and the scenarios inside one guest kernel (EPS_GUEST_KERNEL, default 6.12).
test: setup
	EPS_GUEST=1 $(PY) -m pytest $(PYTEST_ARGS)

## Only the tests that need no root and no network namespaces.
unit: $(STAMPS)/venv-compare $(STAMPS)/debs-browser
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

## Run the scenarios against this machine's kernel: reports/<release>.json, the one-screen
## summary, and an exit code that fails when a case failed or nothing ran.  A subset
## (PYTEST_ARGS="-k ...") writes reports/partial/<release>.json and leaves the full one alone.
report: $(STAMPS)/venv
	@$(CLI) run --reports $(REPORTS) -- $(PYTEST_ARGS)

## Repeat the suite and print median wall time per scenario.
bench: $(STAMPS)/venv
	$(PY) -m harness.bench $(BENCH_ARGS)

KERNELS ?= 5.10 6.1 6.12 7
JOBS    ?=

## Run the scenarios inside each of KERNELS under QEMU: reports/kernels/<release>/report.json,
## then the comparison. A kernel is a Debian series or the path of a bzImage or build tree.
## Exit 1: some kernel's suite failed; exit 2: a kernel could not be fetched or booted, or a
## spec is unknown (then nothing runs and nothing is written). The kernels boot side by side,
## one per CPU (JOBS=1 for one at a time).
kernels: $(STAMPS)/venv-compare $(STAMPS)/debs-guests
	$(CLI) kernels --kernels "$(KERNELS)" --out $(REPORTS)/kernels $(if $(JOBS),--jobs $(JOBS))

## Put every report side by side: reports/compare.md and reports/compare.html.
compare: $(STAMPS)/venv-compare
	$(CLI) compare --out $(REPORTS)

## What an event loop can rely on, claim by claim and kernel by kernel, from the same
## reports: reports/guide.md, and compare.md/compare.html with the guide as a section.
guide: $(STAMPS)/venv-compare
	$(CLI) guide --out $(REPORTS)

## Boot-to-results time per kernel and in total, for the whole suite.
bench-kernels: $(STAMPS)/venv-compare $(STAMPS)/debs-guests
	$(CLI) kernels --bench --kernels "$(KERNELS)" --out $(REPORTS)/kernels $(if $(JOBS),--jobs $(JOBS))

## The semantic mutation check: each mutant of the model or the observation layer, applied
## alone to a scratch copy, must make the scenarios fail (MUTANTS_ARGS="--full" for the whole
## host suite per mutant, or mutant names to run only those).
mutants: setup
	$(PY) -m harness.mutants $(MUTANTS_ARGS)

## The kernel mutants: livepatch modules built against Debian's headers of the 6.1 kernel,
## each changing one readiness rule, booted under QEMU; the suite must fail each, naming the
## rule, and pass the unmodified copy. Not part of `make test` (minutes). KMUTANTS_ARGS:
## mutant names, --full (whole suite per mutant), --mutant PATH (a .ko or .patch of yours).
kernel-mutants: $(STAMPS)/venv $(STAMPS)/debs-guests $(STAMPS)/debs-kmutants
	$(CLI) kernel-mutants $(KMUTANTS_ARGS)

## A fresh Debian 12 machine as the CI container sees it: a minimal root built once with
## debootstrap (cached in .cache/container), entered with private mount, PID and UTS
## namespaces and /dev/net/tun bound in; a clone of HEAD runs `make report` and `make test`.
container-check:
	@command -v debootstrap >/dev/null || { apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null; }
	sh .ci/container-check

clean:
	rm -rf $(VENV) $(STAMPS) build *.egg-info
