# Two entry points on a fresh clone: `make serve` and `make test`.
# Both create .venv and install the project into it first (PyPI only), and the
# workbench's front-end files from the npm registry (scripts/install_workbench.sh).

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
WORKBENCH_STAMP := third_party/workbench/node_modules/.workbench-lock.json

.PHONY: serve test lint generate bench interop

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Without npm the service still starts; /workbench/ then says how to install.
$(WORKBENCH_STAMP): workbench/package-lock.json
	scripts/install_workbench.sh || echo "workbench front end not installed: /workbench/ will say how"

## Run the gRPC server (:50051) and the REST gateway (:8003, workbench at /workbench/) on SQLite under ./data.
serve: $(STAMP) $(WORKBENCH_STAMP)
	$(VENV)/bin/annotation-api serve

## Run the whole test suite on SQLite and on a PostgreSQL the tests start themselves.
## First the system packages it needs (apt, as root on Debian; else it says what is missing)
## and the workbench's front end: the browser tests fail, never skip, without them.
test: $(STAMP)
	scripts/install_system_packages.sh
	scripts/install_workbench.sh
	scripts/test.sh

## buf lint (offline), ruff and mypy.
lint: $(STAMP)
	scripts/lint_protos.sh $(VENV)/bin/python
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## Regenerate generated/ from protos/.
generate: $(STAMP)
	$(VENV)/bin/python scripts/generate_protos.py

## Open the exports with the heavy readers (Ultralytics with torch, datumaro, LLaMA-Factory),
## in their own virtualenv. Opt-in: several GB, and not part of `make test`. The readers are
## installed one at a time after the project: their pins disagree (llamafactory wants
## pillow<=11.3, datumaro and label-studio-sdk pillow>=12; pip warns and each still reads its
## files), and resolving all of them at once fails or backtracks for a very long time.
INTEROP_VENV := .venv-interop
interop:
	test -x $(INTEROP_VENV)/bin/python || $(PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(INTEROP_VENV)/bin/python -m pip install --quiet -e '.[dev]'
	for requirement in $$(grep -v '^#' tests/interop/requirements.txt); do \
		$(INTEROP_VENV)/bin/python -m pip install --quiet "$$requirement" || exit 1; \
	done
	YOLO_OFFLINE=1 $(INTEROP_VENV)/bin/python -m pytest tests/interop -q --db-engines sqlite
