# llmproxy: the two commands a user needs are `make run` and `make test`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 10s
# Minimizing a new input by time stalls the fuzzer for most of a short run
# on this machine; a bounded count of tries keeps it fuzzing.
FUZZFLAGS = -fuzztime $(FUZZTIME) -fuzzminimizetime 200x

.PHONY: run build test lint unit e2e bench fuzz soak clean redis-server screenshots chromium

## run: start the proxy on :4000 and, unless PHOENIX_COLLECTOR_ENDPOINT answers, a local Phoenix (UI on :6006);
## Ctrl-C stops both (configure with environment variables, see README)
run: build
	@$(MAKE) -s -C integration/e2e pydeps
	@deploy/local/run.sh

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/llmproxy .

## test: everything CI runs: formatting, vet, staticcheck, Go tests with -race (fuzz corpora included), the end-to-end suite
test: lint unit e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit: redis-server
	$(GO) test -race -count=1 ./...

# Debian 12's redis-server, pinned: the Go tests that share sessions between
# replicas start one on loopback (sessions/redisstore, integration).
REDIS_SERVER_DEB := 5:7.0.15-1~deb12u10

## redis-server: install Debian's redis-server (pinned) when none is on PATH, as root or through sudo;
## where it cannot be, say so: the tests that need it then skip, naming this target
redis-server:
	@command -v redis-server >/dev/null 2>&1 && exit 0; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "redis-server: not installed, and installing it needs root or sudo: the Redis tests will skip"; exit 0; fi; \
	  command -v apt-get >/dev/null 2>&1 || { echo "redis-server: not installed, and no apt-get here: the Redis tests will skip"; exit 0; }; \
	  install="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server=$(REDIS_SERVER_DEB)"; \
	  echo "installing Debian's redis-server $(REDIS_SERVER_DEB) for the Redis tests"; \
	  $$install || { $$sudo apt-get update -q && $$install; } || \
	    echo "redis-server: apt-get could not install redis-server=$(REDIS_SERVER_DEB): the Redis tests will skip"

## screenshots: the README's pictures of Phoenix's UI (docs/images/), taken again: a Phoenix, the fake
## provider and the proxy on loopback, agent loops through them, a headless Chromium (integration/screenshots/)
screenshots: chromium
	@$(MAKE) -s -C integration/e2e pydeps
	integration/screenshots/run.sh

# Debian's chromium, not pinned: Debian replaces its versions with each
# security update, and the pictures do not depend on which one takes them.
chromium:
	@command -v chromium >/dev/null 2>&1 && exit 0; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "chromium: not installed, and installing it needs root or sudo (Debian: apt-get install chromium)"; exit 1; fi; \
	  command -v apt-get >/dev/null 2>&1 || { echo "chromium: not installed, and no apt-get here: install Chromium"; exit 1; }; \
	  install="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium"; \
	  echo "installing Debian's chromium for the screenshots"; \
	  $$install || { $$sudo apt-get update -q && $$install; }

## fuzz: run each fuzz target for FUZZTIME; crashers land in testdata/fuzz, which `unit` replays
## (not part of `test`: a random find must not make one CI run red and the next green)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParser$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzRelay$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzAccumulator$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzResponsesAccumulator$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzAnthropicAccumulator$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzSnakeCase$$' $(FUZZFLAGS) ./spans
	$(GO) test -run '^$$' -fuzz '^FuzzJSONArray$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzGeminiAccumulator$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzEventStream$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzConverseStreamAccumulator$$' $(FUZZFLAGS) ./stream
	$(GO) test -run '^$$' -fuzz '^FuzzRequestEdits$$' $(FUZZFLAGS) ./openai
	$(GO) test -run '^$$' -fuzz '^FuzzAppendJSONString$$' $(FUZZFLAGS) ./openai
	$(GO) test -run '^$$' -fuzz '^FuzzWithoutLiteLLMFields$$' $(FUZZFLAGS) ./openai
	$(GO) test -run '^$$' -fuzz '^FuzzWithoutSecrets$$' $(FUZZFLAGS) ./spans
	$(GO) test -run '^$$' -fuzz '^FuzzCheck$$' $(FUZZFLAGS) ./jsonbound
	$(GO) test -run '^$$' -fuzz '^FuzzForEach$$' $(FUZZFLAGS) ./jsonbound
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' $(FUZZFLAGS) ./jsonbound
	$(GO) test -run '^$$' -fuzz '^FuzzFromOpenAIChat$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzChatStream$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzFromOpenAIChatToGemini$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzGeminiChatStream$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' $(FUZZFLAGS) ./litellmconfig
	$(GO) test -run '^$$' -fuzz '^FuzzOpenAIChatToBedrock$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzBedrockChatStream$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzAnthropicToBedrockInvoke$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzBedrockAnthropicStream$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzAnthropicToVertex$$' $(FUZZFLAGS) ./translate
	$(GO) test -run '^$$' -fuzz '^FuzzScan$$' $(FUZZFLAGS) ./spool
	$(GO) test -run '^$$' -fuzz '^FuzzIdentify$$' $(FUZZFLAGS) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzClaudeCodeUserID$$' $(FUZZFLAGS) ./sessions

## e2e: the end-to-end suite alone (Phoenix from PyPI, the real SDKs); installs what it needs on first run
e2e:
	$(MAKE) -C integration/e2e test

## soak: 100,000 mixed calls (plain, streamed, upstream errors, clients that leave) through one
## proxy; goroutines, open files and live heap must end where they began (SOAK_CALLS=N to change);
## and a 20 s collector outage under load, spans in memory and then in a spool, after which every span must arrive
soak:
	SOAK=1 $(GO) test -count=1 -run '^(TestSoak|TestCollectorLongOutage)$$' -v ./integration

## bench: speed and memory against a direct call and a bare httputil.ReverseProxy
bench:
	$(GO) run ./integration/bench

clean:
	rm -rf bin
	$(MAKE) -C integration/e2e clean
