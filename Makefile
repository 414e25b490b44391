# tierplan — two commands on a fresh machine: `make demo` and `make test`.
SWIFT      ?= swift
BIN        := .build/debug/tierplan
RELEASE    := .build/release/tierplan
# apt-get as root, through sudo otherwise.
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build demo test bench fuzz clean compose-check

## deps: install PostgreSQL, libpq headers and pkg-config when missing (Debian/Ubuntu).
deps:
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	[ -f /usr/include/postgresql/libpq-fe.h ] || missing="$$missing libpq-dev"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

## demo: a generated data set (5,000 accounts) on the embedded cluster, the nightly job, the results.
demo: build
	$(BIN) demo

## test: every test, against a throwaway PostgreSQL cluster the tests start themselves.
test: deps compose-check
	$(SWIFT) build
	./scripts/test.sh

## bench: release build; ingest, nightly run at 25k/50k/100k accounts, forecast, serve under load, nightly pipeline (ingest + run vs plain PostgreSQL),
## webhooks (100k events to a loopback receiver, commit → delivery latency, the outbox's share of a run); one table.
bench: deps
	$(SWIFT) build -c release
	./scripts/bench_all.sh $(RELEASE)

## fuzz: libFuzzer over the usage, catalog and accounts parsers, FUZZ_SECONDS each (one after the other),
## corpora in Fuzz/corpus/<target>/, crashes in .build-fuzz/crashes/ (see Fuzz/README.md).
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) ./scripts/fuzz.sh

## compose-check: docker-compose.yml (and its job, cli and citus profiles) validates.
compose-check:
	@command -v docker-compose >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq docker-compose; }
	docker-compose config -q
	docker-compose --profile job --profile cli --profile citus config -q
	@echo "docker-compose.yml: valid"

clean:
	-$(BIN) db down --destroy
	rm -rf .build
