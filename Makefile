# The entry points people type. Each deployable folder builds in its own environment (scripts/build).
SHELL := /bin/bash
export UV_COMPILE_BYTECODE := 1
.SHELLFLAGS := -euo pipefail -c
SERVICES := $(sort $(dir $(wildcard services/*/service.toml)))
UV = $(shell scripts/bootstrap)

.PHONY: install run test test-paved test-services test-system bench demo clean $(BUILDS:%=build/%)

install: ## every environment: the tools' (.venv: the `paved` command) and each service's own (services/*/.venv)
	@$(UV) pip install --quiet --python .venv/bin/python -e paved-platform -r system-tests/requirements.txt
	@for s in $(SERVICES); do \
	  $(UV) venv --quiet --allow-existing --python 3.11 $$s.venv; \
	  $(UV) pip install --quiet --python $$s.venv/bin/python -e "$$s[test]"; \
	done

run: install ## the shop: NATS and every service, until Ctrl-C
	.venv/bin/paved up

# Each folder's build in its own environment, three at a time: their tests mostly wait (on brokers,
# processes, deadlines), so three share this two-core machine well; the system tests then run alone.
# The longest first, so that the lanes end together (paved-platform's few tests last: it is quick).
SLOWEST := paved services/warehouse services/order services/payment
BUILDS := $(SLOWEST) $(filter-out $(SLOWEST),$(patsubst %/,%,$(SERVICES))) paved-platform

test: ## everything CI runs
	$(MAKE) --no-print-directory -j3 --output-sync=target $(BUILDS:%=build/%)
	$(MAKE) --no-print-directory test-system

test-paved: build/paved build/paved-platform

test-services: $(patsubst %/,build/%,$(SERVICES))

build/%:
	scripts/build $*

test-system: install
	.venv/bin/ruff check --quiet system-tests bench scripts
	.venv/bin/ruff format --check --quiet system-tests bench scripts
	.venv/bin/python -m pytest system-tests

bench: install ## benchmarks (not part of test); results go to bench/results/, analysis to bench/README.md
	@$(UV) pip install --quiet --python .venv/bin/python -r bench/requirements.txt
	.venv/bin/python bench/run.py
	.venv/bin/python bench/messaging.py
	.venv/bin/python bench/sagas.py
	.venv/bin/python bench/broker_clients.py
	.venv/bin/python bench/resilience.py
	.venv/bin/python bench/mtls.py

demo: ## a handful of customers shop through the running shop (start `make run` first)
	.venv/bin/python scripts/demo.py

clean:
	rm -rf .venv paved/.venv paved-platform/.venv services/*/.venv
