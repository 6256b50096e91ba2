# The two README commands: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= results/demo

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint clean browser-deps

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scalinglaws demo --out $(OUT)

# What the browser test needs: Playwright's Python package (into .venv) and Debian's Chromium (never
# Playwright's own browser download). Best effort: where they cannot be installed, the test skips and says why.
browser-deps: $(STAMP)
	@$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/pip install --quiet -c constraints.txt playwright \
		|| echo "browser-deps: could not install playwright; the browser test will skip"
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
				|| echo "browser-deps: apt-get could not install chromium; the browser test will skip"; \
		else \
			echo "browser-deps: $(CHROMIUM) is missing and needs root and apt-get to install; the browser test will skip"; \
		fi; \
	fi

test: $(STAMP) browser-deps
	$(BIN)/ruff check src tests bench tools scripts
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools scripts

clean:
	rm -rf $(VENV) results
