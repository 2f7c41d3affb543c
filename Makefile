# Fashion-MNIST report: `make report` regenerates every figure, result and the PDF.
#   make help                 list the targets
#   make test                 unit tests of fmnist_utils
#   make report PROFILE=quick whole pipeline on a small subset (minutes), into build/quick/
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.NOTPARALLEL:            # steps run one at a time: each trains on both cores
.DEFAULT_GOAL := help

PROFILE ?= full
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done
APT_PACKAGES := dataset-fashion-mnist pandoc texlive-xetex texlive-fonts-recommended texlive-plain-generic

ifeq ($(filter $(PROFILE),quick full),)
  $(error PROFILE must be quick or full, not '$(PROFILE)')
endif

NOTEBOOKS := 01_eda 02_mlp_baselines 03_cnn_stages 04_hyperband_tuning 05_ensemble 06_transfer_learning 07_design_choices
RUN       := $(PYTHON) -m fmnist_utils.pipeline.cli

.PHONY: help setup lock lint test lab notebooks retrain status report pdf tools figures verify predict demo bench tune-worker clean clean-quick distclean $(NOTEBOOKS)

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22
	@echo "Variables: PROFILE=quick|full (default full); quick writes only under build/quick/."

setup: $(STAMP) ## create .venv, install pinned packages (+ apt packages when root)

$(STAMP): requirements.lock pyproject.toml
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages: $$missing"; \
	    echo "  run: sudo apt-get install $$missing   (or set FMNIST_DATA_DIR for the data)"; \
	  fi; \
	fi
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements.lock
	$(PYTHON) -m pip install -q --no-deps -e .
	# Into the venv itself (not user-wide): each checkout has its own kernel, and clones never interfere.
	$(PYTHON) -m ipykernel install --sys-prefix --name fmnist --display-name "Python (fmnist: $(notdir $(CURDIR)))" >/dev/null
	touch $@

lock: | $(STAMP) ## re-resolve requirements.lock from pyproject.toml's ranges (keeps current pins where they still fit)
	$(VENV)/bin/pip-compile -q --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o requirements.lock pyproject.toml

lint: $(STAMP) ## ruff (package, tests, notebooks) and the layers' import contracts (both in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: $(STAMP) ## run the unit tests
	$(PYTHON) -m pytest -q

LAB_FLAGS ?=
lab: $(STAMP) ## open JupyterLab with this checkout's kernel, "Python (fmnist: <folder>)"; prints its URL
	$(VENV)/bin/jupyter lab notebooks --ServerApp.ip=127.0.0.1 $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_FLAGS)

# One target per step. Whether a step reruns is decided by content, not by file times (a fresh clone
# keeps none): the pipeline compares the digests of the notebook's code, the package modules that
# compute results and the upstream steps' models with those recorded in results/<profile>/NN_x.json,
# and executes the notebook only when they differ (FORCE=1 executes it anyway). See `make status`.
$(NOTEBOOKS): | $(STAMP)
	$(RUN) notebook $@ --profile $(PROFILE) $(if $(FORCE),,--if-stale)

# 04 tunes 03's best CNN; 05 ensembles the CNNs of both. The only place a step's inputs are declared:
# fmnist_utils.pipeline.staleness reads these rules (a step is stale when the models it reads change).
04_hyperband_tuning: 03_cnn_stages
05_ensemble: 03_cnn_stages 04_hyperband_tuning

retrain: $(NOTEBOOKS) ## rerun, in order, the steps whose results are not current with the code

notebooks: retrain ## the same as retrain

status: | $(STAMP) ## per step: current with the code, stale (and which input changed), missing or unknown
	@$(RUN) status --profile $(PROFILE)

report: retrain ## retrain what is not current, then redraw the figures and build the PDF
	$(MAKE) --no-print-directory pdf PROFILE=$(PROFILE)

pdf: tools figures | $(STAMP) ## redraw the figures and build the PDF from the profile's results files alone: trains nothing
	$(RUN) report --profile $(PROFILE)

tools: | $(STAMP) ## check that the programs the PDF needs (xelatex, pandoc) are installed, before any work
	@$(RUN) tools

figures: | $(STAMP) ## redraw every figure from the results files and the data (no training)
	$(RUN) figures --profile $(PROFILE)

verify: $(STAMP) ## recompute every recorded test accuracy exactly from the stored probabilities (full: results/full/, quick: build/quick/results/)
	$(PYTHON) -m fmnist_utils.pipeline.verify --profile $(PROFILE)

IMAGE ?=
predict: $(STAMP) ## top-3 classes of IMAGE=path (PNG/JPEG, any size) by the best CNN in the model store: no training
	@test -n '$(IMAGE)' || { echo "usage: make predict IMAGE=path/to/image.png"; exit 2; }
	@$(PYTHON) -m fmnist_utils.pipeline.demo --profile $(PROFILE) '$(IMAGE)'

demo: $(STAMP) ## run make predict on a test sneaker dressed as a photo and keep its output for the report
	$(PYTHON) -m fmnist_utils.pipeline.demo --record --profile $(PROFILE)

bench: $(STAMP) ## time-to-92% of our CNN recipe vs report 004's, and throughput
	$(PYTHON) -m fmnist_utils.compute.bench --profile $(PROFILE)

SPACE ?= cnn
TUNER_DIR ?=
tune-worker: $(STAMP) ## one process of keras-tuner's distributed search (see README; TUNER_DIR= a shared folder)
	$(PYTHON) -m fmnist_utils.compute.tuning --space '$(SPACE)' --profile $(PROFILE) $(if $(TUNER_DIR),--directory '$(TUNER_DIR)')

clean-quick: ## remove the quick profile's outputs and caches (build/quick)
	rm -rf build/quick

clean: ## remove executed notebooks and quick outputs (keeps caches of full runs and published results)
	rm -rf build

distclean: clean ## also remove the full-profile training cache and the venv
	rm -rf artifacts $(VENV)
