# Two commands set everything up on a fresh clone: `make demo` and `make test`.
# Each creates the local virtual environment .venv and installs what it needs
# there: the demo only skscale and its core dependencies, the tests the test
# extra too. They reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE := $(VENV)/.installed-core
TEST := $(VENV)/.installed-test
DOCS := $(VENV)/.installed-docs
BENCH := $(VENV)/.installed-bench

.PHONY: demo test test-compiled test-numpy docs bench gpu-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(CORE): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(CORE)

$(DOCS): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $@ $(TEST) $(CORE)

$(BENCH): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@ $(TEST) $(CORE)

demo: $(CORE)
	$(PY) examples/demo.py

# The whole suite twice: on the compiled loops (for every input, however
# small) and on the numpy kernels alone, which is what runs without numba;
# then the documentation site, so that it stays buildable.
test: test-compiled test-numpy docs

test-compiled: $(DOCS)
	SKSCALE_COMPILED=1 SCIPY_ARRAY_API=1 $(PY) -m pytest -q

test-numpy: $(DOCS)
	SKSCALE_COMPILED=0 SCIPY_ARRAY_API=1 $(PY) -m pytest -q

# The HTML site in docs/_build/html, every warning an error; the gallery's
# examples run as part of it.
docs: $(DOCS)
	rm -rf docs/_build docs/api docs/auto_examples
	MPLBACKEND=Agg $(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	$(PY) -c "import pathlib, sys; out = pathlib.Path('docs/auto_examples'); \
	bare = [p.name for p in out.glob('plot_*.py') if not any((out / 'images').glob(f'sphx_glr_{p.stem}_0*.png'))]; \
	sys.exit(f'gallery examples without a figure: {bare}' if bare else 0)"

bench: $(BENCH)
	$(PY) benchmarks/run.py $(BENCH_ARGS)
	$(PY) benchmarks/first_call.py
	$(PY) benchmarks/frames.py
	$(PY) benchmarks/dask_bench.py
	$(PY) benchmarks/spark_bench.py
	$(PY) benchmarks/cli.py

# The array-API tests on a CUDA device (and CuPy, where installed) and a
# timing table beside torch's layers there; one line and nothing else
# without a CUDA device.
gpu-check: $(TEST)
	SCIPY_ARRAY_API=1 $(PY) benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/api docs/auto_examples
