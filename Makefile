# qvm-remote - run commands in Qubes OS dom0 from a VM, with dom0 initiating
# every I/O operation.  Plain make; no generated build system.

VERSION   := $(shell cat version 2>/dev/null || echo 0.1.0)
PREFIX    ?= /usr
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
DESTDIR   ?=

CC        ?= cc
OPENSSL_CFLAGS := $(shell pkg-config --cflags libcrypto 2>/dev/null)
OPENSSL_LIBS   := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
# libjansson parses the mcp server's JSON-RPC (client/mcp.c): the client
# links it, nothing else does
JANSSON_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
JANSSON_LIBS   := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

WARN     := -Wall -Wextra -Werror -Wvla -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wshadow -Wno-unused-parameter
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT      ?= -O2 -g
CFLAGS   ?=
CPPFLAGS += -D_GNU_SOURCE -DQVMR_VERSION='"$(VERSION)"' -iquote lib -iquote io
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

# lib/ is pure (tools/lint.sh checks it); io/ holds the helpers that touch
# files.  One archive holds both; the fuzzers link only lib/.
PURE_SRC   := $(sort $(wildcard lib/*.c))
IO_SRC     := $(sort $(wildcard io/*.c))
LIB_SRC    := $(PURE_SRC) $(IO_SRC)
CLIENT_SRC := $(sort $(wildcard client/*.c))
# the dom0 program: the service (daemon/) and its admin verbs (admin/)
DAEMON_SRC := $(sort $(wildcard daemon/*.c)) $(sort $(wildcard admin/*.c))
AGENT_SRC  := $(sort $(wildcard agent/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(O)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(O)/%.o)
AGENT_OBJ  := $(AGENT_SRC:%.c=$(O)/%.o)
LIBA       := $(O)/libqvmremote.a
CLIENT     := $(O)/qvm-remote
DAEMON     := $(O)/qvm-remote-dom0
AGENT      := $(O)/qvm-remote-agent
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

.PHONY: all install check unit system demo deps-build deps-test lint san \
        clean dist
all: $(CLIENT) $(DAEMON) $(AGENT)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(DAEMON_OBJ): CPPFLAGS += -iquote daemon -iquote admin
$(CLIENT_OBJ): CPPFLAGS += $(JANSSON_CFLAGS)

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(CLIENT): $(CLIENT_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(OPENSSL_LIBS) \
	    $(JANSSON_LIBS)

$(DAEMON): $(DAEMON_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(OPENSSL_LIBS)

# The agent needs no OpenSSL: it never sees a key.
$(AGENT): $(AGENT_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^

# Unit tests: test_lib_* and test_io_* link the library; test_daemon_* and test_client_*
# also link that program's objects except its main.
DAEMON_MODS := $(filter-out %/main.o,$(DAEMON_OBJ))
CLIENT_MODS := $(filter-out %/main.o,$(CLIENT_OBJ))
AGENT_MODS  := $(filter-out %/main.o,$(AGENT_OBJ))
TEST_LINK    = $(CC) $(CPPFLAGS) -iquote daemon -iquote admin -iquote client -iquote agent $(ALL_CFLAGS) $(LDHARDEN) -o $@ $^ \
               $(OPENSSL_LIBS) $(TEST_LIBS) -lcmocka
TEST_LIBS    :=

$(O)/tests/test_lib_%: tests/unit/test_lib_%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)
$(O)/tests/test_io_%: tests/unit/test_io_%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)
$(O)/tests/test_daemon_%: tests/unit/test_daemon_%.c $(DAEMON_MODS) $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)
# the client's objects include the mcp server's, which use libjansson
$(O)/tests/test_client_%: CPPFLAGS += $(JANSSON_CFLAGS)
$(O)/tests/test_client_%: TEST_LIBS = $(JANSSON_LIBS)
$(O)/tests/test_client_%: tests/unit/test_client_%.c $(CLIENT_MODS) $(LIBA)
	@mkdir -p $(dir $@)
	$(TEST_LINK)
# test_agent_* link the agent's objects, and dom0's, whose half they meet
$(O)/tests/test_agent_%: tests/unit/test_agent_%.c $(AGENT_MODS) $(DAEMON_MODS) $(LIBA)
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
	@QVMR_BUILD="$(abspath $(O))" tests/system/run.sh

check: deps-test
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit system
	@$(MAKE) --no-print-directory check-real
	@$(MAKE) --no-print-directory reliability
	@$(MAKE) --no-print-directory san
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory browser

# The unit and system suites again under ASan+UBSan.
san:
	@$(MAKE) --no-print-directory SAN=1 O=build-san unit system

demo: deps-build
	@echo "demo: building (make all)"
	@$(MAKE) --no-print-directory -s all
	@QVMR_BUILD="$(abspath $(O))" tools/demo.sh

install: all
	@$(MAKE) --no-print-directory install-vm install-dom0

clean:
	rm -rf build build-san

# ---- libFuzzer targets, one per parser (fuzz/README.md) -------------------
# `make fuzz` builds fuzz/fuzz_*.c with clang, libFuzzer, ASan and UBSan
# into build-fuzz/, with the lib sources compiled
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
FUZZ_RUNS_policy     ?= 150000
FUZZ_RUNS_argvbody   ?= 200000
FUZZ_RUNS_askfile    ?= 200000

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
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIBA): $(PURE_SRC:%.c=$(FUZZ_O)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BIN): $(FUZZ_O)/fuzz_%: $(FUZZ_O)/fuzz/fuzz_%.o $(FUZZ_LIBA)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(filter %.o,$^) $(FUZZ_LIBA) $(OPENSSL_LIBS) \
	    $(FUZZ_LIBS)
FUZZ_LIBS :=

# the viewer's /proc/net/tcp reader lives with the viewer
$(FUZZ_O)/fuzz_proctcp: $(FUZZ_O)/webui/proctcp.o
# the mcp server's pure half lives with the client, and parses with jansson
$(FUZZ_O)/fuzz_mcp: $(FUZZ_O)/client/mcp.o $(FUZZ_O)/client/mcpline.o \
    $(FUZZ_O)/client/json.o
$(FUZZ_O)/fuzz_mcp: FUZZ_LIBS = $(JANSSON_LIBS)
$(FUZZ_O)/client/%.o $(FUZZ_O)/fuzz/fuzz_mcp.o: CPPFLAGS += -iquote client \
    $(JANSSON_CFLAGS)
FUZZ_RUNS_mcp ?= 200000

-include $(wildcard $(FUZZ_O)/*/*.d)

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_O)

# ---- packaging: the packages' halves of install, dist, package-check ------
# install-vm is what a qube's package holds (the client), install-dom0 what
# dom0's holds (daemon, unit, settings 0600, key directory 0700, state
# directory), install-webui the log viewer's package; `make install` runs
# the first two.  /var/log/qubes belongs to Qubes (2770 root:qubes in
# dom0), so it is made (0750, as the daemon would) only when missing.
# `make dist` writes qvm-remote-$(VERSION).tar.gz, the specs' Source0, into
# DISTDIR from the files git knows (tracked or not ignored), else from the
# tree.  `make package-check` builds and inspects every package
# (tests/package/check.sh).
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PRESETDIR   ?= $(PREFIX)/lib/systemd/system-preset
LOCALSTATEDIR ?= /var
LOGDIR      ?= $(LOCALSTATEDIR)/log/qubes
DISTDIR     ?= .
WEBUI       := $(O)/qvm-remote-webui

.PHONY: build-vm build-dom0 build-webui install-vm install-dom0 \
        install-webui package-check deps-package
build-vm: $(CLIENT) $(AGENT)
build-dom0: $(DAEMON)
build-webui: $(WEBUI)

install-vm: $(CLIENT) $(AGENT)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(CLIENT) $(DESTDIR)$(BINDIR)/qvm-remote
	install -m 0755 $(AGENT) $(DESTDIR)$(BINDIR)/qvm-remote-agent
	install -m 0644 docs/qvm-remote.1 docs/qvm-remote-agent.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 completion/qvm-remote $(DESTDIR)$(BASHCOMPDIR)/

install-dom0: $(DAEMON)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(PRESETDIR) $(DESTDIR)$(SYSCONFDIR)/qubes \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR)
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/qubes/remote.d \
	    $(DESTDIR)$(LOCALSTATEDIR)/lib/qvm-remote
	# the policy's directory, empty (no policy: every request runs as
	# root, as before policies); the profiles beside the man page, to copy
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/qubes/remote-policy.d \
	    $(DESTDIR)$(DATADIR)/qvm-remote/remote-policy
	install -m 0644 etc/remote-policy/readonly.policy \
	    etc/remote-policy/agent.policy \
	    $(DESTDIR)$(DATADIR)/qvm-remote/remote-policy/
	[ -d $(DESTDIR)$(LOGDIR) ] || install -d -m 0750 $(DESTDIR)$(LOGDIR)
	install -d -m 0750 $(DESTDIR)$(LOGDIR)/qvm-remote
	install -d $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0644 etc/qvm-remote.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/qvm-remote-dom0
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/qvm-remote-dom0
	install -m 0644 systemd/qvm-remote-dom0.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/75-qvm-remote-dom0.preset $(DESTDIR)$(PRESETDIR)/
	# an admin's settings are never overwritten
	[ -e $(DESTDIR)$(SYSCONFDIR)/qubes/remote.conf ] || \
	    install -m 0600 etc/remote.conf $(DESTDIR)$(SYSCONFDIR)/qubes/remote.conf
	install -m 0644 docs/qubes-remote.conf.5 docs/qvm-remote-policy.5 \
	    $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/qvm-remote-dom0.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 completion/qvm-remote-dom0 $(DESTDIR)$(BASHCOMPDIR)/

install-webui: $(WEBUI)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(PRESETDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(WEBUI) $(DESTDIR)$(SBINDIR)/qvm-remote-webui
	install -m 0644 systemd/qvm-remote-webui.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/75-qvm-remote-webui.preset $(DESTDIR)$(PRESETDIR)/
	install -m 0644 docs/qvm-remote-webui.8 $(DESTDIR)$(MANDIR)/man8/

dist:
	@tools/dist.sh "$(DISTDIR)" "$(VERSION)"

deps-package:
	@tools/deps.sh package

# The packages, from this tree (tools/packages.sh; README, "Install on
# Qubes"): the dom0 and template RPMs into $(O)/rpm/RPMS/, the template's
# deb into $(O)/deb/.
.PHONY: rpm deb
rpm: deps-package
	@tools/packages.sh rpm "$(O)/rpm"
deb: deps-package
	@tools/packages.sh deb "$(O)/deb"

package-check: deps-package
	@tests/package/check.sh

# ---- benchmark (bench/run.sh; results in docs/performance.md) -------------
# `make bench` runs the full benchmark against the simulator and, as root
# with the real qrexec built (make check-real builds it), against the real
# transport too, then prints the two side by side (about 11 minutes each:
# one series is the first command after 10 minutes idle); it writes
# bench/results.json, bench/results-real.json and their charts; then
# bench/live.sh, a few minutes a transport, into bench/live-*.txt.
# `make bench-quick` runs a reduced set (under a minute each) into
# $(O)/bench-quick/.  Root or not.
BENCH_PROBE := $(O)/qvmr-bench-probe

.PHONY: bench bench-quick
$(BENCH_PROBE): $(O)/bench/probe.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(OPENSSL_LIBS)

BENCH_REAL = if [ "$$(id -u)" = 0 ]; then tools/qrexec-build.sh "$(REAL_QREXEC)" || exit 1; fi; \
	QUBES_REAL_QREXEC="$(abspath $(REAL_QREXEC))/bin" QVMR_BUILD="$(abspath $(O))"

# bench/live.sh measures live output (issue 16) on each transport after it
BENCH_LIVE = $(BENCH_REAL) bench/live.sh --transport sim $(1) && \
	if [ "$$(id -u)" = 0 ]; then \
		$(BENCH_REAL) bench/live.sh --transport real $(1); fi

bench: all $(BENCH_PROBE)
	@$(BENCH_REAL) bench/run.sh
	@$(call BENCH_LIVE,)

bench-quick: all $(BENCH_PROBE)
	@$(BENCH_REAL) bench/run.sh --quick
	@$(call BENCH_LIVE,--quick)

# ---- qvm-remote-webui: the read-only log viewer (webui/README.md) ---------
# Needs libmicrohttpd (libmicrohttpd-dev); without its pkg-config file the
# viewer is skipped with a message and everything else still builds.
# WEBUI_PC names the pkg-config package (override it to try the skip).
# install-webui (packaging, above) installs what this builds.
# The unit tests (test_webui_*) link only the parts that do not use
# libmicrohttpd, so `make unit` never needs it.
WEBUI_PC      ?= libmicrohttpd
WEBUI_HAVE    := $(shell pkg-config --exists $(WEBUI_PC) 2>/dev/null && echo yes)
WEBUI_CFLAGS  := $(shell pkg-config --cflags $(WEBUI_PC) 2>/dev/null)
WEBUI_LIBS    := $(shell pkg-config --libs $(WEBUI_PC) 2>/dev/null)
WEBUI         := $(O)/qvm-remote-webui
WEBUI_ASSETS  := webui/assets/index.html webui/assets/app.css \
                 webui/assets/app.js
WEBUI_SRC     := $(sort $(wildcard webui/*.c))
WEBUI_MHD_SRC := webui/main.c webui/server.c webui/sse.c
WEBUI_CORE    := $(patsubst %.c,$(O)/%.o,$(filter-out $(WEBUI_MHD_SRC),$(WEBUI_SRC)))
WEBUI_OBJ     := $(WEBUI_SRC:%.c=$(O)/%.o) $(O)/webui/assets_gen.o
# the log's writer, for the viewer's tests (the viewer itself links none)
WEBUI_DAEMON  := $(O)/daemon/audit.o
WEBUI_LOGGEN  := $(O)/tests/webui-loggen
WEBUI_CHROMIUM ?= /usr/bin/chromium

$(WEBUI_OBJ): CPPFLAGS += -iquote webui $(WEBUI_CFLAGS)

.PHONY: webui browser
all: webui

ifeq ($(WEBUI_HAVE),yes)
webui: $(WEBUI)
else
webui:
	@echo "webui: skipped: pkg-config finds no $(WEBUI_PC);" \
	    "install libmicrohttpd-dev to build qvm-remote-webui"
endif

$(O)/webui/assets_gen.c: webui/embed.sh $(WEBUI_ASSETS)
	@mkdir -p $(dir $@)
	webui/embed.sh $(WEBUI_ASSETS) >$@.tmp && mv $@.tmp $@

$(O)/webui/assets_gen.o: $(O)/webui/assets_gen.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

ifeq ($(WEBUI_HAVE),yes)
$(WEBUI): $(WEBUI_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -pthread -o $@ $^ \
	    $(WEBUI_LIBS) $(OPENSSL_LIBS)
else
$(WEBUI):
	@echo "qvm-remote-webui needs libmicrohttpd: install libmicrohttpd-dev" >&2
	@exit 1
endif

$(O)/tests/test_webui_%: tests/unit/test_webui_%.c $(WEBUI_CORE) $(WEBUI_DAEMON) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote daemon -iquote webui $(ALL_CFLAGS) $(LDHARDEN) \
	    -pthread -o $@ $^ $(OPENSSL_LIBS) -lcmocka

# Writes daemon-format lines (hash chain included) for the browser tests.
$(WEBUI_LOGGEN): tests/browser/loggen.c $(WEBUI_DAEMON) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote daemon $(ALL_CFLAGS) $(LDHARDEN) -o $@ $^ \
	    $(OPENSSL_LIBS)

# Headless Chromium through playwright-core (tests/browser/README.md).
browser:
ifneq ($(WEBUI_HAVE),yes)
	@echo "browser: skipped: qvm-remote-webui is not built (no $(WEBUI_PC))"
else
	@if [ ! -x $(WEBUI_CHROMIUM) ]; then \
	    echo "browser: skipped: $(WEBUI_CHROMIUM) is not installed" \
	        "(apt-get install chromium, or make deps-test)"; exit 0; \
	fi; \
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	    echo "browser: skipped: node and npm are not installed" \
	        "(apt-get install nodejs npm, or make deps-test)"; exit 0; \
	fi; \
	$(MAKE) --no-print-directory $(WEBUI) $(WEBUI_LOGGEN) && \
	QVMR_BUILD="$(abspath $(O))" tests/browser/run.sh
endif

# ---- soak: long mixed load, not part of check -----------------------------
# `make soak` runs tests/soak/soak.sh: SOAK_SECONDS (600) of mixed load from
# four simulated VMs, the daemon's VmRSS and open fds sampled every 10 s into
# $(O)/soak.csv; it fails when either grows.  SOAK_SECONDS=120 make soak for
# a short run.
SOAK_SECONDS ?= 600
.PHONY: soak
soak: all
	@QVMR_BUILD="$(abspath $(O))" SOAK_SECONDS=$(SOAK_SECONDS) \
	    SOAK_CSV="$(abspath $(O))/soak.csv" tests/soak/soak.sh

# ---- reliability: crash, fault and load tests (issue 5) -------------------
# Part of check, once, with the plain build: under ASan the kill storm alone
# would add minutes for little (the daemon code it runs is the same that the
# system suite runs under ASan).
.PHONY: reliability
reliability: all
	@QVMR_BUILD="$(abspath $(O))" tests/system/run.sh $(wildcard tests/reliability/test_*.sh)

# ---- the real-transport tier (issue 13) -----------------------------------
# `make check-real` builds Qubes' own qrexec from the sources beside the
# clone (../shared/third_party/, or QREXEC_SRC and VCHAN_SRC) into
# $(REAL_QREXEC) with tools/qrexec-build.sh, then runs the system suite
# against it: QVMR_TRANSPORT=real, the machine is sim/qubes-real.  Without
# the sources, or without root, it says it is skipped and why.  Part of check.
REAL_QREXEC ?= $(O)/real-qrexec
.PHONY: check-real
check-real: all
	@if [ "$$(id -u)" != 0 ]; then \
	    echo "check-real: skipped: the real qrexec needs root"; exit 0; fi; \
	tools/qrexec-build.sh "$(REAL_QREXEC)" || exit 1; \
	if [ ! -f "$(REAL_QREXEC)/.built" ]; then \
	    echo "check-real: skipped: no real qrexec (see above)"; exit 0; fi; \
	QVMR_TRANSPORT=real QUBES_REAL_QREXEC="$(abspath $(REAL_QREXEC))/bin" \
	    QVMR_BUILD="$(abspath $(O))" tests/system/run.sh
