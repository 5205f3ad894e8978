# A fresh machine needs only python3 (3.10+): every target sets up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# The CPU build of torch; name another (e.g. TORCH="torch==2.13.0 --index-url ...cu126") for a GPU box.
TORCH ?= torch==2.13.0

.PHONY: demo test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/sentiscore predict "Отличный фильм, пересмотрю ещё не раз"
	$(BIN)/sentiscore score data/example_reviews.csv -o reports/example/scored.csv
	$(BIN)/sentiscore evaluate data/example_reviews.csv -o reports/example --bootstrap 200

test: install
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests scripts benchmarks

clean:
	rm -rf $(VENV) reports/example
