# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-main test-integrations bench bench-artifacts bench-tracking bench-server bench-records bench-web bench-s3 install install-integrations clean browser

# The project is the distribution gemini-model-registry. One named `gemini` (PyPI's is a genetics package)
# left in a virtualenv, or its gemini.egg-info here (read whenever this directory is on sys.path), would
# claim the `gemini` package too, so both are removed first.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall -qq --yes gemini
	rm -rf gemini.egg-info
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The REST API, the web page and the API docs on http://$(HOST):$(PORT) (Ctrl-C stops it), on the database
# GEMINI_DATABASE_URL names: unset, the embedded SQLite file. `make run PORT=8080 HOST=0.0.0.0` serves
# elsewhere (an address other than loopback needs GEMINI_API_TOKEN). Set with `=`, not `?=`: a HOST or PORT
# in the environment (csh exports HOST as the machine's name) does not move the server.
HOST = 127.0.0.1
PORT = 7777

run: $(STAMP)
	$(BIN)/gemini serve --host $(HOST) --port $(PORT)

# The main suite, then the trainer integrations' tests in their own virtualenv.
test: test-main test-integrations

test-main: $(STAMP) browser
	$(BIN)/python -m pytest

# The trainer integrations (Ultralytics, Lightning) train for real on the CPU: their frameworks and PyTorch
# live in a virtualenv of their own, so the main one stays lean. torch and torchvision are pinned in the
# `integrations-test` extra to the pair that installs without a download of a newer CUDA build.
INT_VENV := .venv-integrations
INT_STAMP := $(INT_VENV)/.installed

$(INT_STAMP): pyproject.toml
	$(PYTHON) -m venv $(INT_VENV)
	$(INT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INT_VENV)/bin/python -m pip uninstall -qq --yes gemini
	$(INT_VENV)/bin/python -m pip install --quiet -e '.[integrations-test]'
	touch $(INT_STAMP)

install-integrations: $(INT_STAMP)

test-integrations: $(INT_STAMP)
	GEMINI_INTEGRATION_TESTS=required $(INT_VENV)/bin/python -m pytest -m integrations tests/integrations

# The web tests drive Debian's Chromium (no browser download): install it when missing and we may.
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# Benchmarks, not part of the test suite: their own virtualenv, so MLflow never enters the main one.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_SIZES ?= 10000,100000,1000000

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip uninstall -qq --yes gemini
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.run --sizes $(BENCH_SIZES)
	$(BENCH_VENV)/bin/python -m benchmarks.artifact_bench
	$(BENCH_VENV)/bin/python -m benchmarks.tracking_bench

# Artifacts of 100 MiB and 1 GiB through the Python API and `gemini serve` on loopback (about 10 minutes).
bench-artifacts: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.artifact_bench

# Only the tracking benchmarks (metric logging, histories, metric search), with MLflow beside us.
bench-tracking: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.tracking_bench

# Model records at GEMINI's scale (docs/benchmarks.md, "Model records"): RECORDS inserted with
# ModelRecord.insert beside the raw driver's COPY / executemany, a day's filter, and the whole table streamed
# over REST while the server's memory is sampled, on SQLite and PostgreSQL. RECORDS=100000 for a quick look
# (about 2 minutes).
RECORDS ?= 1000000
bench-records: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.records_bench --records $(RECORDS)

# The team server under load (gemini serve --workers 2 on PostgreSQL and SQLite, mlflow server beside
# it), driven by wrk over loopback: Debian's wrk, installed when missing and we may.
bench-server: $(BENCH_STAMP)
	@if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	fi
	$(BENCH_VENV)/bin/python benchmarks/server_load.py --duration 10 --out benchmarks/results/server_load.json

# The compare page of 20 runs x 100,000 points each in Debian's Chromium, on SQLite and PostgreSQL: fails
# unless the curves are drawn within a second of navigation (median of 7 loads; about 2 minutes). In the
# main virtualenv, which has Playwright.
bench-web: $(STAMP) browser
	$(BIN)/python -m benchmarks.compare_page_bench

clean:
	rm -rf $(VENV) $(INT_VENV) .pytest_cache .hypothesis

# Artifacts on an S3 bucket through gemini serve, beside boto3 alone on the same S3 server (moto's server mode,
# from the dev install): a 1 GiB artifact both ways and a YOLO-sized run, best or median of five (about 15
# minutes; MIB=64 for a look). S3_ENDPOINT=URL measures against an S3 server of your own instead (MinIO, AWS
# S3), its keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
MIB ?= 1024
bench-s3: $(STAMP)
	$(BIN)/python -m benchmarks.s3_bench --mib $(MIB) $(if $(S3_ENDPOINT),--endpoint $(S3_ENDPOINT))
