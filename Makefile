# Cascade: one Makefile for people and CI alike.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

VENV      := .venv
FUNCTIONS := $(notdir $(wildcard functions/*))
GOTEST    := go test -count=1 -timeout 20m

# Nothing we run phones home or probes for cloud credentials.
export CDK_DISABLE_CLI_TELEMETRY := true
export AWS_EC2_METADATA_DISABLED := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test bench fuzz lint build clean

FUZZTIME ?= 30s

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# npm's folder gets a go.mod of its own so that ./... never walks into it
# (aws-cdk ships Go template files that do not compile).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	printf 'module ignored/node_modules\n' > node_modules/go.mod
	touch $@

## run: start the local stack and run the demo campaign.
run: $(VENV)/.installed
	go run ./cmd/devstack

## test: vet, then every test with a moto server on loopback.
test: $(VENV)/.installed node_modules/.installed
	go vet ./...
	go run ./cmd/withmoto $(GOTEST) ./...

## fuzz: every Go fuzz target for FUZZTIME each (their seeds run in
## make test), then schemathesis against the local stack's API from
## api/openapi.yaml (ST_EXAMPLES cases per operation, ST_TIME seconds).
fuzz: $(VENV)/.fuzz-installed
	@for pkg in $$(grep -rl --include='*_test.go' --exclude-dir=node_modules \
			--exclude-dir=$(VENV) --exclude-dir=cdk.out --exclude-dir=.git '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | cut -d' ' -f2); do \
			echo "fuzz $$pkg $$f"; \
			go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done
	VENV=$(VENV) api/schemathesis.sh

# schemathesis is for make fuzz only, so make test installs stay small.
$(VENV)/.fuzz-installed: $(VENV)/.installed requirements-fuzz.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-fuzz.txt
	touch $@

## lint: formatting, vet and staticcheck.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.6.1 ./...

## bench: cold starts, micro-benchmarks, report exports and a campaign
## through the local stack, measured; a table, and bench/results.json.
## BENCH_SIZES=1000,10000 adds campaign sizes (10,000 takes hours).
bench: $(VENV)/.installed build
	go run ./cmd/bench $(if $(BENCH_SIZES),-sizes $(BENCH_SIZES) -budget 24h)

## build: every function to dist/<name>/bootstrap for Lambda (arm64).
build: $(FUNCTIONS:%=dist/%/bootstrap)

dist/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc \
		-trimpath -ldflags='-s -w' -o $@ ./functions/$*

## synth: the production stack's CloudFormation template, in cdk.out.
.PHONY: synth
synth: build node_modules/.installed
	node_modules/.bin/cdk synth -q --no-notices

clean:
	rm -rf dist cdk.out

.PHONY: FORCE
FORCE:
