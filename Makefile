# Build for vault-plugin-secrets-pki-external-ca. GNU Make.
#   make            plugin, KV test plugin, dev-vault host
#   make test       installs deps (scripts/deps.sh), then every suite
#   make asan       the same suites, built with AddressSanitizer + UBSan
#   make bench      benchmarks (numbers printed)
#   make demo       Pebble + dev-vault + plugin: a certificate issued end to end
#   make fuzz       every libFuzzer target (test/fuzz) for FUZZ_SECONDS each (clang)
# Sources are picked up by wildcard: src/<layer>/*.c, test/unit/test_*.c, test/acme/*.c.

SAN     ?=
FUZZ    ?=
BUILD   ?= build$(if $(SAN),-asan)$(if $(FUZZ),-fuzz)
CC      ?= cc
PKGS    := grpc libprotobuf-c openssl libcurl libcjson libpcre2-8
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
           -Iinclude -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
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
LAYERS := common crypto acme framework runtime engine
define layer_rules
$(1)_SRC := $$(wildcard src/$(1)/*.c)
$(1)_OBJ := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(BUILD)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))

# runtime also carries the generated protocol code
$(BUILD)/libruntime.a: $(GEN_OBJ)

LIBS := $(BUILD)/libengine.a $(BUILD)/libruntime.a $(BUILD)/libframework.a \
        $(BUILD)/libacme.a $(BUILD)/libcrypto.a $(BUILD)/libcommon.a

$(BUILD)/obj/%.o: src/%.c $(GEN_C) $(wildcard include/*.h) $(wildcard src/*/*.h)
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

# Pebble-backed tests: run by test/acme/run.sh, not as plain unit tests.
$(BUILD)/test-acme/%: test/acme/%.c $(TEST_HELPERS) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itest/lib $(LDFLAGS) -o $@ $< $(TEST_HELPERS) $(LIBS) $(LDLIBS) -lcmocka

tests: all $(UNIT_BIN) $(ACME_BIN)

# libFuzzer targets (test/fuzz/fuzz_*.c), built by clang into build-fuzz with the layers
# instrumented for coverage, ASan and UBSan. `make fuzz-targets` builds, `make fuzz` runs.
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst test/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
FUZZ_MAKE := $(MAKE) FUZZ=1 CC=clang

$(BUILD)/fuzz/%: test/fuzz/%.c test/fuzz/fuzz_util.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)

fuzz-targets:
	$(FUZZ_MAKE) fuzz-bins

fuzz: fuzz-targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=build-fuzz bash test/fuzz/run.sh

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
	$(MAKE) all
	BUILD=$(BUILD) bash scripts/demo.sh

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all tests deps test asan bench demo clean fuzz fuzz-targets fuzz-bins
.SECONDARY:
