# Deep Tree Echo — the two commands a fresh machine needs are `make run` and `make test`.
# Both install what is missing (scripts/deps.sh), then build with cmake into build/.

JOBS ?= 2
BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
DEMO_MODEL ?= models/tiny-rwkv-5v2-730K-FP16.bin
HOST ?= 127.0.0.1
PORT ?= 8080
WORKERS ?= 1..2

.PHONY: all deps configure build run test bench sanitize clean

all: build

deps:
	@./scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) > $(BUILD).cmake.log 2>&1 || (cat $(BUILD).cmake.log; exit 1)

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The main job: `dte up` on the bundled demo model (byte-level tiny RWKV-5.2): the router on
# $(PORT) in front of local `dte serve` workers, autoscaled between the ends of WORKERS (MIN..MAX),
# until Ctrl-C (which stops the workers too).
run: build
	@echo "Deep Tree Echo on http://$(HOST):$(PORT) (model 'demo'). Try, from another terminal:"
	@echo "  curl http://$(HOST):$(PORT)/v1/chat/completions -H 'Content-Type: application/json' \\"
	@echo "    -d '{\"model\": \"demo\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}], \"stream\": true}'"
	./$(BUILD)/dte up --workers $(WORKERS) --model $(DEMO_MODEL) --model-name demo --host $(HOST) --port $(PORT)

# Every test: unit, golden and system tests (ctest), the fuzz targets briefly, the llama.cpp peer.
test: build
	@./scripts/deps.sh --test
	@./scripts/run_tests.sh $(BUILD)

# Micro benchmarks, then the dte-vs-llama.cpp table of docs/performance.md (builds the llama.cpp peer
# and writes the random RWKV-7 0.1B/0.4B models on first use; about 30 minutes on 2 cores).
bench: build
	./$(BUILD)/bench/dte_bench_micro --benchmark_min_time=0.2
	DTE=$(BUILD)/dte bench/perf_vs_llama.sh

# ASan + UBSan build of everything, then the ctest suite under it.
sanitize:
	@$(MAKE) test BUILD=build-asan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS=-DDTE_SANITIZE=ON

clean:
	rm -rf $(BUILD) $(BUILD).cmake.log
