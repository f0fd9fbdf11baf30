# ballot-vision: everything a fresh machine needs is installed from here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BV     := $(VENV)/bin/ballot-vision
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-kaz tesseract-ocr-rus fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-freefont-ttf
OUT    ?= out

.PHONY: install system-deps demo test bench eval clean

install: $(VENV)/.install-stamp

# System packages: Tesseract with Kazakh and Russian, and the fonts the renderer uses.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

$(VENV)/.install-stamp: pyproject.toml
	$(MAKE) system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Reads samples/photos/ afresh each time (--overwrite); the CLI prints the CSV's path and a summary.
demo: install
	$(BV) process samples/photos -o $(OUT)/results.csv --overwrite

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) -m ballot_vision.bench

eval: install
	$(PY) -m ballot_vision.evaluate

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
