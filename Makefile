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
