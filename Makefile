# nanokube — the two commands: `make run` and `make test`.
BUILD ?= build
DATA_DIR ?= $(CURDIR)/.nanokube
NODES ?= 2
JOBS ?= $(shell nproc)

.PHONY: all setup build test unit integration e2e run stop bench clean

all: build

setup:
	@bash scripts/setup

build: setup
	@cmake -S . -B $(BUILD) -G Ninja >/dev/null
	@ninja -C $(BUILD) -j$(JOBS)

unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -LE integration

# Integration tests need root: real namespaces, netlink, runc.
integration: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -L integration

e2e: build
	@bash test/e2e/run $(BUILD)/nanokube

test: unit integration e2e

# A local cluster of NODES nodes (network namespaces on 192.168.250.0/24) with the
# API server on 192.168.250.1:6443; `make stop` removes it all.
run: build
	@bash scripts/run-local start $(BUILD)/nanokube $(DATA_DIR) $(NODES)

stop:
	@bash scripts/run-local stop $(BUILD)/nanokube $(DATA_DIR)

bench: build
	@bash bench/run $(BUILD)
	@bash bench/pod-startup $(BUILD)
	@bash bench/overlay $(BUILD)

clean:
	rm -rf $(BUILD)
