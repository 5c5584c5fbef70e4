# The two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

GRAPHIQL_DIR := .graphiql
GRAPHIQL_JS  := $(GRAPHIQL_DIR)/node_modules/graphql-ws/umd/graphql-ws.min.js
JS_CLIENTS   := tests/js/node_modules/.package-lock.json
WEB_EXAMPLE  := examples/web/node_modules/.package-lock.json

.PHONY: serve test lint typecheck install export-schema graphiql-assets js-clients web-example reliability bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "session-graph needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	@echo "session-graph: GraphQL at http://$${GRAPH_HOST:-127.0.0.1}:$${GRAPH_PORT:-8000}/graphql (GraphiQL in a browser)"
	@echo "Get a token:   $(BIN)/session-graph token --user \$$($(BIN)/python -c 'import uuid; print(uuid.uuid4())')"
	$(BIN)/session-graph serve

lint: $(STAMP)
	$(BIN)/ruff check graph tests examples bench modal_app.py
	$(BIN)/ruff format --check graph tests examples bench modal_app.py

typecheck: $(STAMP)
	$(BIN)/mypy

# GraphiQL, React and graphql-ws for the browser tests (and GRAPH_GRAPHIQL_ASSETS), from npm.
graphiql-assets: $(GRAPHIQL_JS)

$(GRAPHIQL_JS):
	npm install --no-save --no-audit --no-fund --prefix $(GRAPHIQL_DIR) \
		graphiql@3.8.3 react@18.2.0 react-dom@18.2.0 graphql-ws@6.4.2

# The npm clients the tests drive the gateway with (graphql-http's audit, ...), as locked.
js-clients: $(JS_CLIENTS)

$(JS_CLIENTS): tests/js/package.json tests/js/package-lock.json
	npm ci --no-audit --no-fund --prefix tests/js

# The TypeScript client of examples/web (graphql-codegen, tsc, Apollo Client), as locked.
web-example: $(WEB_EXAMPLE)

$(WEB_EXAMPLE): examples/web/package.json examples/web/package-lock.json
	npm ci --no-audit --no-fund --prefix examples/web

test: lint typecheck
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory graphiql-assets js-clients web-example; fi
	GRAPH_TEST_GRAPHIQL_ASSETS=$(CURDIR)/$(GRAPHIQL_DIR)/node_modules $(BIN)/pytest

# Load, faults, hostile input, isolation and fuzzing on loopback; writes docs/RELIABILITY.md.
reliability: $(STAMP)
	$(BIN)/python -m tests.reliability

# The gateway against PostGraphile 4.14 and the asyncpg floor; writes docs/PERFORMANCE.md.
bench: $(STAMP) js-clients
	$(BIN)/python -m bench.run

export-schema: $(STAMP)
	$(BIN)/session-graph export-schema

clean:
	rm -rf $(VENV) $(GRAPHIQL_DIR) tests/js/node_modules examples/web/node_modules examples/web/src/gql examples/web/dist .pytest_cache .mypy_cache .ruff_cache
