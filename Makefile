# OnChainFL — every target sets up what it needs on first use (Python venv, npm packages,
# FashionMNIST, the solc bridge and the Brownie networks), then does its job.
#
#   make experiment [ALGO=fedavg] [CONFIG=configs/x.yaml] [ROUNDS=5] [CLIENTS=10] [DATASET=fashionmnist]
#                   [PARTITION=iid|dirichlet|niid-dirichlet|shards|quantity|natural] [ALPHA=0.5] [MODEL=cnn] [SEED=0]
#                   [NETWORK=ganache-local] [ENGINE=inprocess|flower] [ARGS=...]
#                   ALGO=x alone runs the preset configs/x.yaml (FashionMNIST, offline); CONFIG picks any preset
#   make experiment RESUME=runs/<id>   continue a killed run
#   make verify RUN=runs/<id> [VERIFY_ARGS=--no-metrics]   audit a run from the chain and its artifacts
#   make explore RUN=runs/<id> [SERVE=1] [PORT=8050]   the run's chain and folder as one page (runs/<id>/explorer.html,
#                                       opens offline); RUN="runs/a runs/b": side by side too; SERVE=1: live on 127.0.0.1
#   make experiment ... EXPLORE=1       the explorer beside the run, live while it trains (prints its address)
#   make experiment ... LOG=tensorboard   also log each round to TensorBoard (runs/<id>/tensorboard/); LOG=mlflow:
#                                       to MLflow (MLFLOW_TRACKING_URI, default ./mlruns); both: LOG=tensorboard,mlflow
#                                       (or LOG="tensorboard mlflow")
#   make experiment ENGINE=flower       the clients as Flower ClientApps on Flower's simulation engine (Ray)
#   make flower-federation [FEDERATION_ARGS="--clients 3 --rounds 2"]   a SuperLink and 3 SuperNodes on loopback
#                                       (TLS, SuperNode authentication, a key and a shard each), then verify
#   make compare RUNS="runs/a runs/b"   accuracy curves in one PNG (runs/compare.png) and a table
#   make table [TABLE_ROUNDS=20] [TABLE_ARGS=--reuse]   every algorithm on FashionMNIST, Dirichlet(0.1)
#                                       and IID: README's table (--reuse: keep finished runs of the same config)
#   make niid-bench [NIID_JOBS=2] [NIID_ARGS="--rows fedavg --reuse"]   NIID-Bench's FashionMNIST table
#                                       (Li et al. 2022): ours beside the published figures, into README.md
#                                       (hours on a CPU; NIID_JOBS runs at a time, default one per core)
#   make personalized-table [TABLE_ROUNDS=20]   FedPer, FedRep, FedBN, Ditto beside FedAvg (and fine-tuned):
#                                       each client's accuracy on its own test split, into README.md
#   make test       brownie test (contract tests, fl tests, end-to-end on Ganache, the explorer in headless Chromium)
#   make verify-ownership MODEL=<file.safetensors> TOKEN=<id> [RUN=runs/<id>] [KEY=0x...] [THRESHOLD=0.9]
#                   check a model file for the watermarks of a model token's owners
#   make watermark-table  FedIPR's watermark under fine-tuning and pruning, and ownership gas, into README.md
#   make robustness every attack x defence on FashionMNIST; writes the table into README.md [ARGS=--rounds 5]
#   make coverage [README=1] [TESTS="tests/contracts/test_x.py ..."]   statement, branch and revert-site coverage of
#                   contracts/ under the contract tests, per contract (README=1: into README.md)
#   make setup      only the set-up

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export PYTHONUNBUFFERED := 1

ALGO ?=
CONFIG ?= $(wildcard configs/$(or $(ALGO),fedavg).yaml)
TABLE_ROUNDS ?= 20
TABLE_THREADS ?= 1
RUN_FLAGS = $(if $(CONFIG),--config $(CONFIG)) $(if $(ALGO),--algo $(ALGO)) \
	$(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(CLIENTS),--clients $(CLIENTS)) \
	$(if $(DATASET),--dataset $(DATASET)) $(if $(PARTITION),--partition $(PARTITION)) \
	$(if $(ALPHA),--alpha $(ALPHA)) $(if $(MODEL),--model $(MODEL)) $(if $(SEED),--seed $(SEED)) \
	$(if $(NETWORK),--network $(NETWORK)) $(if $(ENGINE),--engine $(ENGINE)) $(if $(EXPLORE),--explore $(PORT_OR_DEFAULT)) \
	$(foreach tracker,$(subst $(comma), ,$(LOG)),--log $(tracker)) $(ARGS)
comma := ,
PORT_OR_DEFAULT = $(or $(PORT),8050)

.PHONY: setup browser experiment explore compare table niid-bench personalized-table test verify flower-federation bench robustness clean-build toolchain data \
	verify-ownership watermark-table coverage

setup: $(VENV)/.installed node_modules/.installed toolchain data

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Registers the solcjs bridge with py-solc-x and the ganache-local / anvil-local networks with
# Brownie (both live under $HOME), and links ganache/anvil into the venv so that an activated
# venv finds them. Idempotent and quick, so it runs every time.
toolchain: $(VENV)/.installed node_modules/.installed
	@ln -sf ../../node_modules/.bin/ganache $(VENV)/bin/ganache
	@ln -sf ../../node_modules/.bin/anvil $(VENV)/bin/anvil
	@$(PY) toolchain/register.py

# FashionMNIST: Debian's dataset-fashion-mnist package where apt works, else torchvision's
# download into data/. Tests never need it (they generate their data).
data: $(VENV)/.installed
	@$(PY) toolchain/fetch_data.py

experiment: setup
	$(PY) -m fl run $(if $(RESUME),--resume $(RESUME) $(if $(EXPLORE),--explore $(PORT_OR_DEFAULT)),$(RUN_FLAGS))

compare: setup
	$(PY) -m fl compare $(RUNS)

# One torch thread per run: on a machine shared with other work, idle OpenMP threads spin and
# two threads run the small CNN several times slower than one (TABLE_THREADS=2 on an idle machine).
table: setup
	OMP_NUM_THREADS=$(TABLE_THREADS) $(PY) -m fl table --rounds $(TABLE_ROUNDS) $(TABLE_ARGS)

# NIID-Bench's FashionMNIST rows (Li et al., ICDE 2022) on the chain, into README.md; hours on a CPU
# (NIID_ARGS="--rounds 5" for a quick, shortened look; --reuse continues after an interruption).
# Each finished run leaves its record in results/niid-bench/, and the table shows every recorded row.
# NIID_JOBS runs go at a time (one per core by default), each on TABLE_THREADS torch threads.
NIID_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
niid-bench: setup
	OMP_NUM_THREADS=$(TABLE_THREADS) $(PY) -m fl niid-bench --jobs $(NIID_JOBS) $(NIID_ARGS)

# FedPer, FedRep, FedBN and Ditto beside FedAvg and FedAvg fine-tuned, into README.md.
personalized-table: setup
	OMP_NUM_THREADS=$(TABLE_THREADS) $(PY) -m fl personalized-table --rounds $(TABLE_ROUNDS) $(TABLE_ARGS)

# Two pytest-xdist workers (TEST_WORKERS=1: one process), a file at a time each; the files that
# start Flower's simulation engine share one queue (tests/conftest.py). Brownie's first load after
# a fresh compile prunes three OpenZeppelin artifacts that no contract links, and two workers
# loading the project at once would race on that: compiling first leaves the pruning to
# `brownie test` itself, before it starts the workers.
TEST_WORKERS ?= 2
test: setup browser
	@$(VENV)/bin/brownie compile >/dev/null
	$(VENV)/bin/brownie test $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup) $(TEST_ARGS)

# Headless Chromium and its driver, for the explorer's browser tests: Debian's chromium and
# chromium-driver, installed where apt works (as root). Elsewhere those tests say how to install
# them and are skipped, except under REQUIRE_BROWSER=1 (CI), where they fail.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "browser: installing Debian's chromium and chromium-driver with apt"; \
	  apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null; }; \
	else echo "browser: no chromium here and apt is not usable: the browser tests will be skipped"; fi

clean-build:
	rm -rf build

verify: setup
	@test -n "$(RUN)" || { echo "error: say which run: make verify RUN=runs/<id>" >&2; exit 2; }
	$(PY) -m fl verify $(RUN) $(VERIFY_ARGS)

explore: setup
	@test -n "$(RUN)" || { echo "error: say which run: make explore RUN=runs/<id> (several: RUN=\"runs/a runs/b\")" >&2; exit 2; }
	$(PY) -m fl explore $(if $(SERVE),--serve --port $(PORT_OR_DEFAULT)) $(RUN)

flower-federation: setup
	$(PY) -m fl.run.flower.federation $(FEDERATION_ARGS)

bench: setup
	$(PY) -m fl.tools.bench suite $(BENCH_ARGS)
	$(PY) -m fl.tools.bench engines $(ENGINES_ARGS)

verify-ownership: setup
	@test -n "$(MODEL)" -a -n "$(TOKEN)" || { echo "error: say which model file and token: make verify-ownership MODEL=runs/<id>/artifacts/<hash>.safetensors TOKEN=1 [RUN=runs/<id>]" >&2; exit 2; }
	$(PY) -m fl verify-ownership $(MODEL) --token $(TOKEN) $(if $(RUN),--run $(RUN)) $(if $(KEY),--key $(KEY)) \
		$(if $(THRESHOLD),--threshold $(THRESHOLD))

watermark-table: setup
	$(PY) -m fl.tools.watermark_table

robustness: setup
	$(PY) -m fl.tools.robustness $(ARGS)

# Contract coverage: `brownie test --coverage` on the contract tests with toolchain/coverage.py
# as a plugin (it fixes what stock Brownie 1.22.2 gets wrong on these contracts); see its docstring.
# No data set needed, so only the venv, the npm packages and the toolchain.
coverage: toolchain
	$(PY) -m toolchain.coverage $(if $(README),--readme) $(TESTS)
