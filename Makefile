# refrain: `make run` opens the studio, `make test` runs every test. Both set up what is missing.
CARGO ?= cargo
MODEL := models/SmolLM2-135M-Instruct.Q4_1.gguf

.PHONY: run test test-vulkan setup deps models llama-server lint bench bench-vs-llama-cpp eval-sentiment

run: setup
	$(CARGO) run --release --quiet -- $(ARGS)

test: setup llama-server
	REFRAIN_LLAMA_SERVER="$$(scripts/build-llama-server)" $(CARGO) test --all-targets
	$(CARGO) clippy --all-targets --quiet -- -D warnings
	$(CARGO) fmt --all -- --check

# Optional, not part of `test` (a ~8 min build): the GPU offload path on Mesa's software Vulkan
# device (lavapipe), all layers offloaded. Fetches Vulkan 1.4 headers into target/vulkan.
test-vulkan: setup
	scripts/test-vulkan

setup: deps models

# llama.cpp's server, for the remote-backend tests (built once, cached in ~/.cache/refrain).
llama-server: deps
	@scripts/build-llama-server >/dev/null

deps:
	@scripts/install-deps

models: $(MODEL)

$(MODEL):
	@scripts/fetch-model

lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --all -- --check

bench: setup
	$(CARGO) run --release --quiet -- bench
	$(CARGO) bench --bench draw --bench sentiment --bench history --bench inspector

bench-vs-llama-cpp: setup
	scripts/bench-vs-llama-cpp

# The sentiment benchmark table in the README: lexicon and model on the UCI sets.
eval-sentiment: setup
	scripts/fetch-sentiment-data
	$(CARGO) build --release --quiet
	for set in amazon imdb yelp; do target/release/refrain eval sentiment --method both --data target/sentiment-data/$$set.jsonl; done
