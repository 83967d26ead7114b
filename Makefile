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
DEB_PACKAGES := libsqlite3-dev clang binutils openssl ca-certificates curl python3 python3-jwcrypto systemd nginx mosquitto mosquitto-clients jq
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: all deps interop-peers test demo bench fuzz install clean
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

# `make bench` runs every bench/*.sh and keeps what they print, with the machine it ran on, in
# bench/RESULTS.md (each script prints its figures beside its reference run and the ratio).
bench: bin/tapir
	@{ echo "# tapir benchmarks"; echo; echo "Run $$(date -u +%Y-%m-%dT%H:%MZ) at commit $(COMMIT) on $$(nproc) x $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $$(free -g | awk '/Mem:/ {print $$2}') GiB, load average $$(cut -d' ' -f1-3 /proc/loadavg)."; echo; \
	  for b in bench/*.sh; do echo "## $$b"; echo; echo '```'; "$$b" 2>&1; echo '```'; echo; done; } | tee bench/RESULTS.md

SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(SECONDS) fuzz/run.sh

# `make install [PREFIX=/usr/local] [DESTDIR=…]`: the binary, the example configuration, the
# documentation, the systemd units (dist/*.service.in with the paths filled in) and the sysusers.d
# entry for the tapir user. Nothing is started or enabled; docs/operations.md has the first run.
PREFIX ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/tapir
install: bin/tapir
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/tapir
	install -m 0755 bin/tapir $(DESTDIR)$(PREFIX)/bin/tapir
	install -m 0644 tapir.toml.example $(DESTDIR)$(DOCDIR)/tapir.toml.example
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	@[ -e $(DESTDIR)$(SYSCONFDIR)/tapir/tapir.toml ] || install -m 0644 tapir.toml.example $(DESTDIR)$(SYSCONFDIR)/tapir/tapir.toml
	for unit in tapir-core tapir-edge; do \
	  sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    dist/$$unit.service.in > $(DESTDIR)$(UNITDIR)/$$unit.service; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit.service; \
	done
	install -m 0644 dist/tapir.sysusers.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/tapir.conf

clean:
	rm -rf bin build src/*/bin src/*/obj tests/*/bin tests/*/obj
