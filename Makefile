# tapir build. `make` publishes bin/tapir (one Native AOT file, SQLite linked in statically),
# `make test` runs every test and ends with "N passed, N failed", `make demo` runs the
# end-to-end path, `make bench` runs the benchmarks in bench/, `make fuzz [SECONDS=60]` fuzzes each
# parser with afl++ for SECONDS (fuzz/README.md; not part of `make test`). Missing Debian packages are
# installed when running as root, otherwise named.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
DOTNET ?= dotnet
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
SOURCES := $(shell find src -name '*.cs' -o -name '*.csproj' -o -name 'packages.lock.json' -o -name Directory.Build.props)
DEB_PACKAGES := libsqlite3-dev clang binutils openssl ca-certificates curl python3 python3-jwcrypto mosquitto mosquitto-clients
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: all deps interop-peers test demo bench fuzz clean
all: bin/tapir

deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "make: missing Debian packages:$$missing. Install them with: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
	@command -v $(DOTNET) >/dev/null || { echo "make: the .NET 10 SDK (dotnet) is not on PATH" >&2; exit 1; }

bin/tapir: $(SOURCES) | deps
	@rm -rf build/publish && mkdir -p build
	$(DOTNET) publish src/Tapir/Tapir.csproj -c Release -o build/publish -p:RestoreLockedMode=true \
	  -p:SourceRevisionId=$(COMMIT) --nologo 2>&1 | tee build/publish.log
	@if grep -qiE ': warning [A-Z]+[0-9]+' build/publish.log; then echo "make: the build printed warnings (see above); warnings are errors" >&2; exit 1; fi
	@mkdir -p bin && rm -f bin/* && install -m 0755 build/publish/tapir bin/tapir
	@ls -l bin/tapir

# Interop peers for the tests: npm packages pinned by tests/interop/package-lock.json.
interop-peers: deps
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	  else echo "make: node and npm are needed for the interop tests: sudo apt-get install nodejs npm" >&2; exit 1; fi; }
	@if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then \
	  cd tests/interop && npm ci --no-audit --no-fund --loglevel=error && touch node_modules; fi

test: bin/tapir interop-peers
	tests/run.sh

demo: bin/tapir
	tests/demo.sh

bench: bin/tapir
	@for b in bench/*.sh; do echo "== $$b"; "$$b"; done

SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(SECONDS) fuzz/run.sh

clean:
	rm -rf bin build src/*/bin src/*/obj tests/*/bin tests/*/obj
