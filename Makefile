# Two set-up commands on a fresh machine: `make run` and `make test`.
# The interpreter .venv is made from: the distribution's /usr/bin/python3 when it is
# 3.11 or newer and can make a virtual environment, else python3 from PATH. Debian's is
# built with profile-guided and link-time optimisation, and runs the simulator about a
# quarter faster than an unoptimised build such as pyenv's default (docs/performance.md).
# Override with `make PYTHON=...` (after `make clean`: an existing .venv is kept).
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench browser java java-example clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bpcert run smoke --plugin reference

lint: $(STAMP)
	$(BIN)/ruff check simulator conformance reports scenarios tests
	$(BIN)/ruff format --check simulator conformance reports scenarios tests

typecheck: $(STAMP)
	$(BIN)/mypy

# The report tests open report.html in Debian's headless Chromium; install it if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  (echo "make browser: could not install chromium; the HTML report test needs it" >&2; exit 1)

# Java plugin jars (--plugin jar:...) need a JDK: Debian's headless OpenJDK 17 if javac is missing.
java:
	@command -v javac >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/javac" ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null) || \
	  (echo "make java: could not install openjdk-17-jdk-headless; jar: plugins need javac and java" >&2; exit 1)

# The example Java plugin, built as a vendor would (docs/java.md): abiquo-6.0 and abiquo-4.0.4.
JAVA_EXAMPLE := examples/java-plugin
java-example: $(STAMP) java
	$(BIN)/python -m simulator.bridge.jvm build $(JAVA_EXAMPLE)/build/plugin.jar \
	  $(JAVA_EXAMPLE)/common $(JAVA_EXAMPLE)/abiquo-6.0 --profile abiquo-6.0
	$(BIN)/python -m simulator.bridge.jvm build $(JAVA_EXAMPLE)/build/plugin-4.0.4.jar \
	  $(JAVA_EXAMPLE)/common $(JAVA_EXAMPLE)/abiquo-4.0.4 --profile abiquo-4.0.4

unit: $(STAMP) browser java
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m conformance.load.bench

clean:
	rm -rf $(VENV) out .hypothesis build *.egg-info
