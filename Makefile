# carebridge - top-level build.
#
#   make            build build/release/carebridge
#   make run        install what is missing, build, start the private PostgreSQL, migrate,
#                   load demo data and serve on http://127.0.0.1:8080/
#   make check      the same set-up, then every test; ends with "check: N passed, N failed"
#   make asan       build and run every test under AddressSanitizer + UBSan
#   make bench      benchmarks (not part of check)
#   make fuzz       fuzz the HL7 parser and the request decoders (clang + libFuzzer; not part of check)
#   make format     clang-format every C file in place
#   make install    install the binary and example config (PREFIX, DESTDIR honoured)
#   make deb        the Debian package build/carebridge_<version>_<arch>.deb (debian/)
#   make test-deb   build the package, lintian it, verify its unit, run it as the unit would
#   make clean      remove build/ (the private PostgreSQL cluster included)

PREFIX   ?= /usr/local
DESTDIR  ?=
FLAVOUR  ?= release
BUILD    := build/$(FLAVOUR)
PKGS     := libevent libevent_openssl openssl libpq libcjson uuid libsodium
# The version has one home, debian/changelog's first line; `carebridge version` prints it.
VERSION  := $(shell head -n 1 debian/changelog | cut -d '(' -f 2 | cut -d ')' -f 1)

# Project flags live apart from CFLAGS so that "make CFLAGS=..." adds to them.
CB_WARN  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wformat=2 -Wundef \
            -Wwrite-strings -Wvla -Wimplicit-fallthrough -Wno-unused-parameter -Werror
ifeq ($(FLAVOUR),asan)
CB_OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CB_LDOPT := -fsanitize=address,undefined
else ifeq ($(FLAVOUR),debug)
CB_OPT   := -O0 -g
else
CB_OPT   := -O2 -g
endif

# Recursive (=) so that pkg-config runs when a recipe needs it: after scripts/bootstrap.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = $(CB_WARN) $(CB_OPT) -MMD -MP -Ilib -Iserver -I$(BUILD)/gen $(PKG_CFLAGS) \
             -DCAREBRIDGE_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS)

LIB_SRC    := $(wildcard lib/*.c)
SERVER_SRC := $(wildcard server/*.c)
UNIT_SRC   := $(wildcard test/unit/*_test.c)
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
STATIC     := $(sort $(wildcard server/static/*))

LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o)
GEN_OBJ    := $(BUILD)/obj/gen/embedded.o
UNIT_BIN   := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
BIN        := $(BUILD)/carebridge

.PHONY: all run check check-only asan bench fuzz format format-check install clean bootstrap \
        unit unit-bins integration deb test-deb
.DEFAULT_GOAL := all

all: $(BIN) $(UNIT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/embedded.c: scripts/embed $(MIGRATIONS) $(STATIC)
	@mkdir -p $(dir $@)
	scripts/embed $(MIGRATIONS) $(STATIC) > $@.tmp && mv $@.tmp $@

# the version is compiled into main.c
$(BUILD)/obj/server/main.o: debian/changelog

$(GEN_OBJ): $(BUILD)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Wmissing-prototypes,$(ALL_CFLAGS)) -c $< -o $@

$(BIN): $(SERVER_OBJ) $(LIB_OBJ) $(GEN_OBJ)
	$(CC) $(CB_OPT) $(CB_LDOPT) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/test/%_test: $(BUILD)/obj/test/unit/%_test.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CB_OPT) $(CB_LDOPT) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lm

bootstrap:
	@scripts/bootstrap

# run and check install what is missing first, then re-enter make so that pkg-config is
# evaluated with the packages present.
run: bootstrap
	@$(MAKE) --no-print-directory all
	@scripts/run-local $(BIN)

check: bootstrap
	@$(MAKE) --no-print-directory all
	@scripts/check $(BUILD)

asan: bootstrap
	@$(MAKE) --no-print-directory FLAVOUR=asan all
	@scripts/check build/asan

unit-bins: $(UNIT_BIN)

unit: unit-bins
	@scripts/check --unit-only $(BUILD)

integration: all
	@scripts/check --integration-only $(BUILD)

bench: bootstrap
	@$(MAKE) --no-print-directory all
	@scripts/bench $(BUILD)

fuzz: bootstrap
	@scripts/fuzz

format:
	clang-format -i $(wildcard lib/*.[ch] server/*.[ch] test/unit/*.[ch] test/fuzz/*.[ch] test/bench/*.[ch])

format-check:
	@scripts/format-check

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/carebridge
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/carebridge
	install -m 0644 config/carebridge.conf $(DESTDIR)$(PREFIX)/share/carebridge/carebridge.conf.example

# The Debian package: debhelper in a copy of the tree under build/deb (so the
# package build never touches this tree's build/), the .deb moved to build/.
deb:
	@scripts/bootstrap deb
	@scripts/deb build

test-deb:
	@scripts/bootstrap deb
	@scripts/deb build
	@scripts/deb test

clean:
	@if [ -x scripts/pg ]; then scripts/pg stop >/dev/null 2>&1 || true; fi
	rm -rf build

-include $(shell find build/*/obj -name '*.d' 2>/dev/null)
