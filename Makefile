# qvm-remote - run commands in Qubes OS dom0 from a VM, with dom0 initiating
# every I/O operation.  Plain make; no generated build system.

VERSION   := $(shell cat version 2>/dev/null || echo 0.1.0)
PREFIX    ?= /usr
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
DESTDIR   ?=

CC        ?= cc
OPENSSL_CFLAGS := $(shell pkg-config --cflags libcrypto 2>/dev/null)
OPENSSL_LIBS   := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)

WARN     := -Wall -Wextra -Werror -Wvla -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wshadow -Wno-unused-parameter
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT      ?= -O2 -g
CFLAGS   ?=
CPPFLAGS += -D_GNU_SOURCE -DQVMR_VERSION='"$(VERSION)"' -iquote lib
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(HARDEN) $(OPENSSL_CFLAGS) $(CFLAGS)
LDHARDEN := -pie -Wl,-z,relro,-z,now
LDFLAGS  ?=

# Sanitizer builds live in their own tree so they never mix with the normal
# objects: `make SAN=1 O=build-san`.
O ?= build
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
LDHARDEN   += -fsanitize=address,undefined
HARDEN     := -fstack-protector-strong -fPIE
endif

LIB_SRC    := $(sort $(wildcard lib/*.c))
CLIENT_SRC := $(sort $(wildcard client/*.c))
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(O)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(O)/%.o)
LIBA       := $(O)/libqvmremote.a
CLIENT     := $(O)/qvm-remote
DAEMON     := $(O)/qvm-remote-dom0
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

.PHONY: all install check unit system demo deps-build deps-test lint san \
        clean dist
all: $(CLIENT) $(DAEMON)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(CLIENT): $(CLIENT_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(OPENSSL_LIBS)

$(DAEMON): $(DAEMON_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(OPENSSL_LIBS)

# Unit tests: test_lib_* link the library; test_daemon_* and test_client_*
# also link that program's objects except its main.
DAEMON_MODS := $(filter-out %/main.o,$(DAEMON_OBJ))
CLIENT_MODS := $(filter-out %/main.o,$(CLIENT_OBJ))
TEST_LINK    = $(CC) $(CPPFLAGS) -iquote daemon -iquote client $(ALL_CFLAGS) $(LDHARDEN) -o $@ $^ \
               $(OPENSSL_LIBS) -lcmocka

$(O)/tests/test_lib_%: tests/unit/test_lib_%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)
$(O)/tests/test_daemon_%: tests/unit/test_daemon_%.c $(DAEMON_MODS) $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)
$(O)/tests/test_client_%: tests/unit/test_client_%.c $(CLIENT_MODS) $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)

-include $(shell find $(O) -name '*.d' 2>/dev/null)

deps-build:
	@tools/deps.sh build
deps-test:
	@tools/deps.sh test

lint:
	@tools/lint.sh

unit: $(UNIT_BIN)
	@tools/run-unit.sh $(UNIT_BIN)

system: all
	@QVMR_BUILD=$(abspath $(O)) tests/system/run.sh

check: deps-test
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit system
	@$(MAKE) --no-print-directory san
	@$(MAKE) --no-print-directory fuzz

# The unit and system suites again under ASan+UBSan.
san:
	@$(MAKE) --no-print-directory SAN=1 O=build-san unit system

demo: deps-build
	@$(MAKE) --no-print-directory all
	@QVMR_BUILD=$(abspath $(O)) tools/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/qubes
	install -m 0755 $(CLIENT) $(DESTDIR)$(BINDIR)/qvm-remote
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/qvm-remote-dom0
	install -m 0644 systemd/qvm-remote-dom0.service $(DESTDIR)$(UNITDIR)/
	install -m 0600 etc/remote.conf $(DESTDIR)$(SYSCONFDIR)/qubes/remote.conf

clean:
	rm -rf build build-san

# ---- libFuzzer targets, one per parser (fuzz/README.md) -------------------
# `make fuzz` builds fuzz/fuzz_*.c with clang, libFuzzer, ASan and UBSan
# into build-fuzz/, with the lib sources (and daemon/logparse.c) compiled
# again there with the same instrumentation, then runs each target for a
# fixed number of executions on a copy of its seed corpus.  Any crash,
# leak, undefined behaviour or broken property fails it.  Without clang it
# says so and succeeds.  FUZZ_RUNS (or FUZZ_RUNS_<name>) sets the length.
FUZZ_CC    ?= clang
FUZZ_O     := build-fuzz
FUZZ_SAN   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -g -O1
FUZZ_FLAGS  = -std=c11 $(WARN) $(FUZZ_SAN) $(OPENSSL_CFLAGS)
FUZZ_NAMES := $(sort $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_BIN   := $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz_%)
FUZZ_LIBA  := $(FUZZ_O)/libqvmremote.a
# Sized so the whole `make fuzz`, build included, stays well under two
# minutes on two cores; targets that hash, escape or write back their
# input on every run get fewer.
FUZZ_RUNS  ?= 500000
FUZZ_RUNS_config     ?= 300000
FUZZ_RUNS_log_escape ?= 200000
FUZZ_RUNS_token      ?= 50000

.PHONY: fuzz fuzz-build clean-fuzz
fuzz:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	    echo "fuzz: skipped: clang not installed"; exit 0; \
	fi; \
	mkdir -p $(FUZZ_O); \
	printf '%s\n' 'int LLVMFuzzerTestOneInput(const char *p, unsigned long n);' \
	    'int LLVMFuzzerTestOneInput(const char *p, unsigned long n) { return !p && n; }' \
	    >$(FUZZ_O)/probe.c; \
	if ! $(FUZZ_CC) $(FUZZ_SAN) -o $(FUZZ_O)/probe $(FUZZ_O)/probe.c \
	    >$(FUZZ_O)/probe.log 2>&1; then \
	    echo "fuzz: skipped: $(FUZZ_CC) cannot link libFuzzer with ASan and UBSan" \
	        "(install libclang-rt-dev); see $(FUZZ_O)/probe.log"; exit 0; \
	fi; \
	$(MAKE) --no-print-directory fuzz-build && \
	fuzz/run.sh $(FUZZ_O) $(foreach n,$(FUZZ_NAMES),$(n)=$(or $(FUZZ_RUNS_$(n)),$(FUZZ_RUNS)))

fuzz-build: $(FUZZ_BIN)
	@:

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -iquote daemon $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIBA): $(LIB_SRC:%.c=$(FUZZ_O)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BIN): $(FUZZ_O)/fuzz_%: $(FUZZ_O)/fuzz/fuzz_%.o $(FUZZ_LIBA)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(filter %.o,$^) $(FUZZ_LIBA) $(OPENSSL_LIBS)

# the audit log reader lives with the daemon
$(FUZZ_O)/fuzz_logparse: $(FUZZ_O)/daemon/logparse.o

-include $(wildcard $(FUZZ_O)/*/*.d)

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_O)
