# Build for vault-plugin-secrets-pki-external-ca. GNU Make.
#   make            plugin, KV test plugin, dev-vault host
#   make test       installs deps (scripts/deps.sh), then every suite
#   make asan       the same suites, built with AddressSanitizer + UBSan
#   make bench      benchmarks (numbers printed)
#   make demo       Pebble + OpenBao (HOST=dev-vault: the SDK host) + plugin, bao CLI
#   make install    the plugin into $(DESTDIR)$(PLUGIN_DIR) (PREFIX, PLUGIN_DIR)
#   make dist       release zip + SHA256SUMS in $(BUILD)/dist, named like HashiCorp's
#   make fuzz       every libFuzzer target (test/fuzz) for FUZZ_SECONDS each (clang)
# Sources are picked up by wildcard: src/<layer>/*.c, test/unit/test_*.c, test/acme/*.c.

SAN     ?=
FUZZ    ?=
BUILD   ?= build$(if $(SAN),-asan)$(if $(FUZZ),-fuzz)
CC      ?= cc
PKGS    := grpc libprotobuf-c openssl libcurl libcjson libpcre2-8 libidn2 ldns libxml-2.0
# pkg-config runs once (simple expansion): CFLAGS is a recursive variable, expanded for
# every compile, and grpc's pkg-config takes about half a second.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Without the packages, make would stop at "No rule to make target build/obj/...o" (the
# generated protocol code cannot be made), which names no cause: say it once, up front. The
# goals that install them first (deps, test, asan, bench, demo) and clean need nothing.
ifneq ($(filter-out deps test asan bench demo clean,$(or $(MAKECMDGOALS),all)),)
ifeq ($(PKG_LIBS)$(shell command -v protoc-c),)
$(error build dependencies missing ($(shell pkg-config --print-errors --exists $(PKGS) 2>&1 | head -1 | sed 's/^Package //;s/,.*//')). Install them with `make deps` as root (scripts/deps.sh, Debian packages), or run `make test` / `make demo`, which do)
else ifeq ($(PKG_LIBS),)
$(error build dependencies missing: pkg-config finds not all of $(PKGS). Install them with `make deps` as root (scripts/deps.sh))
else ifeq ($(shell command -v protoc-c),)
$(error protoc-c not found (Debian: protobuf-c-compiler). Install the build dependencies with `make deps` as root)
endif
endif
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
           -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread
ifneq ($(SAN),)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifneq ($(FUZZ),)
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
CFLAGS  += -DPKIEXT_VERSION=\"v$(VERSION)\"

PLUGIN   := $(BUILD)/vault-plugin-secrets-pki-external-ca
KVPLUGIN := $(BUILD)/vault-plugin-kv-test
DEVVAULT := build/dev-vault

# Plain `make` (the README's first step before `install build/vault-plugin-...`) builds
# the plugin and the dev host: the layer rules below are generated first, so without this
# the first of them would be the default goal.
.DEFAULT_GOAL := all

# ---- protobuf-c generated code ------------------------------------------------------
PROTOS     := $(wildcard proto/*.proto)
WKT        := google/protobuf/timestamp.proto google/protobuf/empty.proto
GEN_C      := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS)) \
              $(patsubst %.proto,$(BUILD)/gen/%.pb-c.c,$(WKT))
GEN_OBJ    := $(GEN_C:.c=.o)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -Iproto -I/usr/include $<

$(BUILD)/gen/google/protobuf/%.pb-c.c $(BUILD)/gen/google/protobuf/%.pb-c.h: /usr/include/google/protobuf/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I/usr/include google/protobuf/$*.proto

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) $(CFLAGS) -Wno-error -c -o $@ $<

# ---- layers, one static library each (dependencies point down) -----------------------
LAYERS := common crypto acme dns framework runtime engine
define layer_rules
$(1)_SRC := $$(wildcard src/$(1)/*.c src/$(1)/*/*.c)
$(1)_OBJ := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(BUILD)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))

# runtime also carries the generated protocol code
$(BUILD)/libruntime.a: $(GEN_OBJ)

LIBS := $(BUILD)/libengine.a $(BUILD)/libruntime.a $(BUILD)/libframework.a \
        $(BUILD)/libdns.a $(BUILD)/libacme.a $(BUILD)/libcrypto.a $(BUILD)/libcommon.a

$(BUILD)/obj/%.o: src/%.c $(GEN_C) $(wildcard include/*.h) $(wildcard src/*/*.h src/*/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

all: $(PLUGIN) $(KVPLUGIN) $(DEVVAULT)

$(PLUGIN): $(wildcard plugin/*.c) $(LIBS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(wildcard plugin/*.c) $(LIBS) $(LDLIBS)

$(KVPLUGIN): $(wildcard test/kvplugin/*.c) $(LIBS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(wildcard test/kvplugin/*.c) $(LIBS) $(LDLIBS)

$(DEVVAULT): $(shell find test/host -name '*.go' -o -name go.mod -o -name go.sum 2>/dev/null)
	@mkdir -p build
	cd test/host && go build -o ../../$@ .

# ---- tests ---------------------------------------------------------------------------
UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_BIN := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRC))
ACME_SRC := $(wildcard test/acme/test_*.c)
ACME_BIN := $(patsubst test/acme/%.c,$(BUILD)/test-acme/%,$(ACME_SRC))
TEST_HELPERS := $(wildcard test/lib/*.c)

$(BUILD)/test/%: test/unit/%.c $(TEST_HELPERS) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itest/lib $(LDFLAGS) -o $@ $< $(TEST_HELPERS) $(LIBS) $(LDLIBS) -lcmocka

# The fault-injection test fails allocations on purpose: it wraps the allocator of every
# object linked into it (the engine's static libraries included).
$(BUILD)/test/test_engine_faults: LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup

# Pebble-backed tests: run by test/acme/run.sh, not as plain unit tests.
$(BUILD)/test-acme/%: test/acme/%.c $(TEST_HELPERS) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itest/lib $(LDFLAGS) -o $@ $< $(TEST_HELPERS) $(LIBS) $(LDLIBS) -lcmocka

tests: all dist $(UNIT_BIN) $(ACME_BIN)

# libFuzzer targets (test/fuzz/fuzz_*.c), built by clang into build-fuzz with the layers
# instrumented for coverage, ASan and UBSan. `make fuzz-targets` builds, `make fuzz` runs.
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst test/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
FUZZ_MAKE := $(MAKE) FUZZ=1 CC=clang BUILD=build-fuzz

$(BUILD)/fuzz/%: test/fuzz/%.c test/fuzz/fuzz_util.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)

fuzz-targets:
	$(FUZZ_MAKE) fuzz-bins

fuzz: fuzz-targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash test/fuzz/run.sh

deps:
	bash scripts/deps.sh

# The README's test command. Every suite runs; the summary line counts suites.
test: deps
	$(MAKE) tests
	BUILD=$(BUILD) bash test/run.sh

asan: deps
	$(MAKE) SAN=1 tests
	BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 bash test/run.sh

bench: deps
	$(MAKE) all
	BUILD=$(BUILD) bash test/bench/run.sh

demo: deps
	$(MAKE) all dist
	BUILD=$(BUILD) bash scripts/demo.sh

# ---- shipping -------------------------------------------------------------------------
# Vault and OpenBao look for plugins in their plugin_directory; PLUGIN_DIR is that.
PREFIX     ?= /usr/local
PLUGIN_DIR ?= $(PREFIX)/lib/vault/plugins
ARCH       := $(shell uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')
DIST_NAME  := vault-plugin-secrets-pki-external-ca_$(VERSION)_linux_$(ARCH)
DIST_ZIP   := $(BUILD)/dist/$(DIST_NAME).zip

install: $(PLUGIN)
	install -d $(DESTDIR)$(PLUGIN_DIR)
	install -m 0755 $(PLUGIN) $(DESTDIR)$(PLUGIN_DIR)/vault-plugin-secrets-pki-external-ca

# The zip holds the binary as HashiCorp's plugin releases do (the very file `make install`
# installs, so one sum fits both); SHA256SUMS (beside it and in
# it) has the sum of the zip and the sum of the binary, the one `plugin register -sha256`
# takes.
$(DIST_ZIP): $(PLUGIN) VERSION README.md
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist/stage
	cp $(PLUGIN) README.md $(BUILD)/dist/stage/
	cd $(BUILD)/dist/stage && sha256sum vault-plugin-secrets-pki-external-ca > SHA256SUMS && \
	    zip -q -X ../$(DIST_NAME).zip vault-plugin-secrets-pki-external-ca README.md SHA256SUMS
	cd $(BUILD)/dist && sha256sum $(DIST_NAME).zip > SHA256SUMS && cat stage/SHA256SUMS >> SHA256SUMS
	rm -rf $(BUILD)/dist/stage
	@cat $(BUILD)/dist/SHA256SUMS

dist: $(DIST_ZIP)

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all tests deps test asan bench demo install dist clean fuzz fuzz-targets fuzz-bins
.SECONDARY:
