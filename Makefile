# EchoTray. The two commands that matter:
#   make run    set everything up and start the demo (Soketi, the Laravel
#               stand-in, an event generator, and the tray app signed in)
#   make test   set everything up and run every test
# See README.md for the rest.

GO        ?= go
BUILD     ?= build
NAME      := $(shell sed -n 's/^ *Name *= *"\(.*\)"/\1/p' FyneApp.toml)
VERSION   := $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
# Packages whose tests need neither cgo nor a display (everything but main).
LIBPKGS    = $(shell $(GO) list ./... | grep -v '^echotray$$')

.PHONY: run test bench dist dist-verify deps build lint unit race integration e2e clean help

help:
	@sed -n 's/^#   *//p;s/^## //p' Makefile

## deps         install what is missing (apt packages, npm dev stack, Go modules)
deps:
	@scripts/deps.sh

## build        build ./build/echotray (the tray core, no GUI toolkit) and
##              ./build/echotray-window (the windows; cgo, Fyne: the first build takes minutes)
build: deps
	CGO_ENABLED=0 $(GO) build -tags nowindow -o $(BUILD)/echotray .
	$(GO) build -tags migrated_fynedo -o $(BUILD)/echotray-window .

## run          the demo: real Soketi + Laravel stand-in + generator + the tray app signed in
run: build
	@scripts/run-demo.sh $(BUILD)/echotray

## test         every test: lint, unit (CGO_ENABLED=0), race, integration (real Soketi), end-to-end
test: deps lint unit race integration e2e
	@echo "make test: all suites passed"

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet -tags integration $(LIBPKGS)
	CGO_ENABLED=0 $(GO) vet -tags nowindow .

unit:
	CGO_ENABLED=0 $(GO) test -count=1 $(LIBPKGS)

race:
	$(GO) test -race -count=1 $(LIBPKGS)

integration: deps
	$(GO) test -tags integration -count=1 -timeout 20m $(LIBPKGS)

e2e: deps
	$(GO) test -tags e2e -count=1 -timeout 30m -v ./test/e2e/

## bench        benchmarks and side-by-side comparisons; results in docs/benchmarks.md
bench: deps
	@scripts/bench.sh

## dist         offline installers in dist/: .deb, .tar.xz, Windows setup.exe, SHA256SUMS
dist:
	@scripts/deps.sh dist
	@packaging/dist.sh all

## dist-verify  install the .deb into a clean Debian root and setup.exe under wine
dist-verify: dist
	@packaging/dist.sh verify

clean:
	rm -rf $(BUILD) dist
