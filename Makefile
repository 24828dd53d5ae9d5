# SPDX-License-Identifier: MIT
#
# mprds. Everything is built under $(BUILD) (build/, or build-san/ with SAN=1):
#   make                 libmprds.so, mprds-run, unit tests, test programs, tools
#   make check           installs what is missing (tools/deps.sh), builds, checks that core/'s
#                        rooms depend one way (make rooms), runs the unit tests,
#                        the bats tests, a short run of each fuzzer and (as root) the kernel
#                        interop suite on 6.1 and 7.3
#   make interop         the interop suite against the kernel's rds_tcp in a QEMU guest
#                        (kernels 6.1, 6.12 and 7.3), matrix in bats/interop/RESULTS.md
#   make check SAN=1     the same with ASan and UBSan, in build-san/
#   make demo            two unmodified programs talking RDS over 8 TCP paths
#   make fuzz            each fuzzer for FUZZ_TIME seconds
#   make bench           the benchmarks (bench/run, as root; ~15 min, not part of check):
#                        tables and plots in bench/RESULTS.md
#   make install         PREFIX=/usr/local, DESTDIR for staging
#   make deb             the Debian package (debian/), in build/deb/
#   make deb-check       builds it, lints it, installs it, runs programs from it, purges it
#   make version         prints VERSION, which mprdsd, mprds-run and debian/changelog carry
#   make map             rewrites shim/libmprds.map from shim/calls.def
# V=1 shows the commands.

# The one version: mprdsd and mprds-run take it from here; debian/changelog must agree.
VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
PKGLIBDIR ?= $(PREFIX)/lib/mprds
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
# make's built-in default is cc; a CC from the command line or the environment wins.
ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang
OBJCOPY ?= objcopy
NM ?= nm
PKG_CONFIG ?= pkg-config
BATS ?= bats
FUZZ_TIME ?= 20
ifeq ($(SAN),1)
BUILD ?= build-san
else
BUILD ?= build
endif

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -D_GNU_SOURCE \
	-Iinclude
override CPPFLAGS += -MMD -MP
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
override CFLAGS += $(SAN_FLAGS)
override LDFLAGS += $(SAN_FLAGS)
# An ASan-built library preloaded into a program built without it (python3) needs the ASan
# runtime loaded first; mprds-run puts MPRDS_SAN_PRELOAD ahead of itself in LD_PRELOAD.
SAN_PRELOAD = $(realpath $(shell $(CC) -print-file-name=libasan.so) \
	$(shell $(CC) -print-file-name=libubsan.so))
SAN_ENV = MPRDS_SAN_PRELOAD="$(SAN_PRELOAD)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:quarantine_size_mb=16 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
endif
FUZZ_CFLAGS ?= -O1 -g
override FUZZ_CFLAGS += -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -Iinclude \
	-fsanitize=fuzzer,address,undefined
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check)

# Tests, the demo and the tools find what was built here.
export MPRDS_BUILD := $(abspath $(BUILD))

ifeq ($(V),1)
msg =
Q =
else
msg = @printf '  %-8s %s\n' '$(1)' '$(2)'
Q = @
endif

CORE_SRC := $(wildcard core/*.c)
SHIM_SRC := $(wildcard shim/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz_*.c)
PROG_SRC := $(wildcard bats/progs/*.c)
# The tools are tools/mprds-*.c; the other tools/*.c are what they share, built into each.
TOOL_SRC := $(wildcard tools/mprds-*.c)
TOOL_SHARED_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(TOOL_SRC),$(wildcard tools/*.c)))
DAEMON_SRC := $(wildcard daemon/*.c)
BATS_SRC := $(wildcard bats/*.bats)
MAN_SRC := $(wildcard man/*.[1-8])

# The core twice: as compiled, for the unit tests; and for the library with its calls to the
# interposed functions renamed to the shim's forwarders to libc (shim/preload.c), so that the
# engine reaches libc directly and never re-enters the shim.
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB_CORE_OBJ := $(CORE_SRC:core/%.c=$(BUILD)/lib/core/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libmprds.so
RUN := $(BUILD)/mprds-run
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZERS := $(FUZZ_SRC:tests/%.c=$(BUILD)/fuzz/%)
PROGS := $(PROG_SRC:bats/progs/%.c=$(BUILD)/progs/%)
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/tools/%)
DAEMON := $(BUILD)/mprdsd
CALLS := $(BUILD)/shim/calls.list

all: $(LIB) $(RUN) $(DAEMON) $(TESTS) $(PROGS) $(TOOLS)
lib: $(LIB) $(RUN)
tests: $(TESTS)
progs: $(PROGS)
tools: $(TOOLS)
fuzzers: $(FUZZERS)

$(BUILD)/%.o: %.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The names in shim/calls.def, one a line.
$(CALLS): shim/calls.def
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -E -P -x c -D'SHIM_CALL(r,n,p,a)=n' -D'SHIM_CALL_VOID(n,p,a)=n' \
		-D'SHIM_CALL_VA(r,n,p,l,a)=n' -D'SHIM_EXPORT(r,n,p)=n' $< | tr -s ' \t' '\n\n' | sed '/^$$/d' | \
		LC_ALL=C sort > $@

$(BUILD)/shim/real.syms: $(CALLS)
	$(call msg,GEN,$@)
	$(Q)sed 's/.*/& shim_real_&/' $< > $@

$(BUILD)/shim/map.ok: $(CALLS) shim/libmprds.map
	$(call msg,CHECK,shim/libmprds.map)
	$(Q)sed -n 's/^[[:space:]]*\([A-Za-z0-9_]\{1,\}\);$$/\1/p' shim/libmprds.map | \
		LC_ALL=C sort | diff -u $(CALLS) - >&2 || { echo \
		"shim/libmprds.map does not list the calls of shim/calls.def: run 'make map'" >&2; \
		exit 1; }
	@touch $@

map: $(CALLS)
	$(call msg,GEN,shim/libmprds.map)
	$(Q){ echo '/* Generated from shim/calls.def by `make map`; the build checks they agree. */'; \
		printf '{\n\tglobal:\n'; sed 's/.*/\t\t&;/' $<; \
		printf '\tlocal:\n\t\t*;\n};\n'; } > shim/libmprds.map

$(LIB_CORE_OBJ): $(BUILD)/lib/core/%.o: $(BUILD)/core/%.o $(BUILD)/shim/real.syms
	$(call msg,OBJCOPY,$@)
	@mkdir -p $(@D)
	$(Q)$(OBJCOPY) --redefine-syms=$(BUILD)/shim/real.syms $< $@

# The client's half of the rendezvous with mprdsd, renamed as the core is.
LIB_DAEMON_OBJ := $(BUILD)/lib/daemon/rendezvous.o
$(LIB_DAEMON_OBJ): $(BUILD)/lib/daemon/%.o: $(BUILD)/daemon/%.o $(BUILD)/shim/real.syms
	$(call msg,OBJCOPY,$@)
	@mkdir -p $(@D)
	$(Q)$(OBJCOPY) --redefine-syms=$(BUILD)/shim/real.syms $< $@

# VERSION, rewritten only when it changes: what prints it (--version) is rebuilt then.
VERSION_STAMP := $(BUILD)/version
FORCE:
$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
VERSION_CPPFLAGS = -DMPRDS_VERSION='"$(VERSION)"'
$(BUILD)/daemon/mprdsd.o: override CPPFLAGS += $(VERSION_CPPFLAGS)
$(BUILD)/daemon/mprdsd.o: $(VERSION_STAMP)

# The shim starts the mprdsd installed beside it, else this one.
$(BUILD)/shim/channel.o: override CPPFLAGS += -DMPRDS_BINDIR='"$(BINDIR)"'

$(LIB): $(LIB_CORE_OBJ) $(LIB_DAEMON_OBJ) $(SHIM_OBJ) shim/libmprds.map $(BUILD)/shim/map.ok
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--version-script=shim/libmprds.map \
		-Wl,-z,defs -o $@ $(LIB_CORE_OBJ) $(LIB_DAEMON_OBJ) $(SHIM_OBJ) -lev -lpthread -ldl
	$(Q)$(NM) -D --defined-only $@ | awk '{ print $$NF }' | LC_ALL=C sort | \
		diff -u $(CALLS) - >&2 || { rm -f $@; echo \
		"$@ must export exactly the calls of shim/calls.def" >&2; exit 1; }

# mprdsd: the core as compiled (it is not preloaded: it calls libc directly) and daemon/.
$(DAEMON): $(DAEMON_SRC:%.c=$(BUILD)/%.o) $(CORE_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lev -lpthread

$(RUN): shim/mprds-run $(VERSION_STAMP)
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sed -e 's|@LIBDIR@||' -e 's|@VERSION@|$(VERSION)|' $< > $@.tmp && chmod 0755 $@.tmp && \
		mv $@.tmp $@

$(BUILD)/tests/%.o: tests/%.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

# tests/fake_*.c: what the unit tests put in place of the outside world (a fake transport).
TEST_FAKE_OBJ := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(wildcard tests/fake_*.c))
$(TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_FAKE_OBJ) $(CORE_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_FAKE_OBJ) $(CORE_OBJ) $(CHECK_LIBS) -lev -lpthread

$(PROGS): $(BUILD)/progs/%: bats/progs/%.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

$(TOOLS): $(BUILD)/tools/%: tools/%.c $(TOOL_SHARED_OBJ) $(VERSION_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(VERSION_CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TOOL_SHARED_OBJ) \
		-lpthread

# A fuzzer #includes the core file it tests, so the parser is fuzzed exactly as it ships.
$(FUZZERS): $(BUILD)/fuzz/%: tests/%.c
	$(call msg,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(filter %.o,$^) -lev -lpthread

# fuzz_api drives the whole engine through api.h: it links the core built with its flags.
FUZZ_CORE_OBJ := $(CORE_SRC:core/%.c=$(BUILD)/fuzz/core/%.o)
$(BUILD)/fuzz/fuzz_api: $(FUZZ_CORE_OBJ)
# fuzz_hello's daemon/rendezvous.c logs (a daemon log that cannot be written).
$(BUILD)/fuzz/fuzz_hello: $(addprefix $(BUILD)/fuzz/core/,log.o sysio.o fdreg.o)
# fuzz_ipc drives the daemon's client-message parser and its calls into the same core.
$(BUILD)/fuzz/fuzz_ipc: $(FUZZ_CORE_OBJ) daemon/*.c daemon/*.h include/mprds/ipc.h
$(FUZZ_CORE_OBJ): $(BUILD)/fuzz/core/%.o: core/%.c
	$(call msg,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) \
		-c -o $@ $<

# fuzz_snap reads engine snapshots (mprdsd --upgrade) into the core.
$(BUILD)/fuzz/fuzz_snap: $(FUZZ_CORE_OBJ)
# fuzz_recv drives the receive side through the fake transport (tests/fake_transport.c, no
# check) and the core.
FUZZ_FAKE_OBJ := $(BUILD)/fuzz/tests/fake_transport.o
$(BUILD)/fuzz/fuzz_recv: $(FUZZ_CORE_OBJ) $(FUZZ_FAKE_OBJ)
# The fake is the fuzzer's harness: sanitized, but no coverage to steer by.
$(FUZZ_FAKE_OBJ): $(BUILD)/fuzz/tests/%.o: tests/%.c
	$(call msg,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) $(filter-out -fsanitize=%,$(FUZZ_CFLAGS)) \
		-fsanitize=address,undefined -c -o $@ $<

# The steps of check, each also usable alone once things are built.
# rooms: core/'s object graph (nm: who calls whom) must have no cycle (DESIGN.md).
rooms: $(CORE_OBJ)
	@mkdir -p $(BUILD)/check
	$(Q)if python3 tools/room_graph.py $(CORE_OBJ) \
		> $(BUILD)/check/rooms.out; then \
		tail -n 1 $(BUILD)/check/rooms.out; echo "ok 1 - core/ rooms depend one way" \
		> $(BUILD)/check/rooms.log; \
	else cat $(BUILD)/check/rooms.out >&2; \
		echo "not ok 1 - core/ rooms depend one way" > $(BUILD)/check/rooms.log; exit 1; fi

unit: $(TESTS)
	@mkdir -p $(BUILD)/check && : > $(BUILD)/check/unit.log
	@fail=0; for t in $(TESTS); do \
		echo "  TEST     $$t"; \
		$$t 2>&1 | tee -a $(BUILD)/check/unit.log || { fail=1; echo "$$t FAILED"; }; \
	done; exit $$fail

integration: all
	@mkdir -p $(BUILD)/check && : > $(BUILD)/check/bats.log
ifneq ($(BATS_SRC),)
	$(Q)$(SAN_ENV) $(BATS) --tap --timing --print-output-on-failure bats/ | \
		tee $(BUILD)/check/bats.log
else
	@echo "  BATS     no bats/*.bats yet"
endif

# The in-process engine (MPRDS_ENGINE=process), which the whole suite above does not use: a
# smoke subset of the same tests.
BATS_PROCESS_SMOKE := bats/10-python-c.bats bats/20-multipath.bats bats/30-readiness.bats \
	bats/45-contract.bats bats/60-faults.bats
integration-process: all
	@mkdir -p $(BUILD)/check && : > $(BUILD)/check/bats-process.log
	$(Q)MPRDS_ENGINE=process $(SAN_ENV) $(BATS) --tap --timing --print-output-on-failure \
		$(BATS_PROCESS_SMOKE) | tee $(BUILD)/check/bats-process.log

fuzz-run: $(FUZZERS)
	$(Q)bash tools/fuzz.sh $(FUZZ_TIME) $(BUILD)/fuzz/artifacts $(FUZZERS)

# Interop with the kernel's rds_tcp in a kvm-rds guest (bats/interop/run.sh, as root):
# make interop runs INTEROP_KERNELS and writes the matrix to bats/interop/RESULTS.md and
# README.md; make check runs INTEROP_CHECK_KERNELS (the oldest and the newest wire we claim),
# and prints one line for each kernel that could not be fetched or booted, saying why.
# 7.3 = the newest 7.3.x in trixie-backports (run.sh: INTEROP_SUITE).
INTEROP_KERNELS ?= 6.1 6.12 7.3
INTEROP_CHECK_KERNELS ?= 6.1 7.3
interop: all
	$(Q)$(SAN_ENV) bash bats/interop/run.sh --results bats/interop/RESULTS.md --readme README.md \
		$(INTEROP_KERNELS)

interop-check: all
	@mkdir -p $(BUILD)/check
	$(Q)$(SAN_ENV) bash bats/interop/run.sh --check --tap $(BUILD)/check/interop.log \
		$(INTEROP_CHECK_KERNELS)

check:
	$(Q)bash tools/deps.sh check
	$(Q)$(MAKE) --no-print-directory all fuzzers
	$(Q)rm -rf $(BUILD)/check && mkdir -p $(BUILD)/check
	$(Q)ret=0; for step in rooms unit integration integration-process fuzz-run interop-check; do \
		$(MAKE) --no-print-directory $$step || ret=1; done; \
		cat $(BUILD)/check/*.log 2>/dev/null | awk -v ret=$$ret ' \
		/^[0-9]+%: Checks: / { gsub(/,/, ""); n = $$3; f = $$5 + $$7; \
			pass += n - f; fail += f } \
		/^ok / { if (/# skip/) skip++; else pass++ } \
		/^not ok / { fail++ } \
		END { if (ret && !fail) fail = 1; \
			printf "check: %d passed, %d failed", pass, fail; \
			if (skip) printf ", %d skipped", skip; printf "\n" }' | \
		tee $(BUILD)/check/summary; exit $$ret

demo:
	$(Q)bash tools/deps.sh demo
	$(Q)$(MAKE) --no-print-directory all
	@test -f tools/demo.sh || { echo "tools/demo.sh is not there yet" >&2; exit 1; }
	$(Q)$(SAN_ENV) bash tools/demo.sh

fuzz:
	$(Q)bash tools/deps.sh fuzz
	$(Q)$(MAKE) --no-print-directory fuzzers
	$(Q)$(MAKE) --no-print-directory fuzz-run

# Figures only, never asserted; BENCH_RUNS, BENCH_SECS, BENCH_SCENARIOS... in bench/run.
bench:
	$(Q)bash tools/deps.sh bench
	$(Q)$(MAKE) --no-print-directory lib tools $(DAEMON)
	$(Q)bash bench/run
	$(Q)bash bench/hostwide

# host-wide (mprdsd) vs in-process vs raw TCP on loopback, one table (about 2 minutes)
bench-hostwide: lib $(DAEMON)
	$(Q)bash bench/hostwide

# What make install substitutes in what it installs: where things are, and the version.
INSTALL_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g' \
	-e 's|@LIBDIR@|$(PKGLIBDIR)|g' -e 's|@VERSION@|$(VERSION)|g'
STAGE := $(BUILD)/install

# mprdsd.service for this BINDIR (the Debian package's dh_installsystemd takes it from here).
service:
	@mkdir -p $(STAGE)
	$(Q)$(INSTALL_SUBST) daemon/mprdsd.service.in > $(STAGE)/mprdsd.service

# UNITDIR= (empty) installs no unit.
install: $(LIB) $(RUN) $(DAEMON) $(TOOLS) service
	@install -v -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(PKGLIBDIR)"
	@install -v -m 0644 $(LIB) "$(DESTDIR)$(PKGLIBDIR)/libmprds.so"
	@$(INSTALL_SUBST) shim/mprds-run > $(STAGE)/mprds-run
	@install -v -m 0755 $(STAGE)/mprds-run "$(DESTDIR)$(BINDIR)/mprds-run"
	@for t in $(TOOLS) $(DAEMON); do install -v -m 0755 $$t "$(DESTDIR)$(BINDIR)/"; done
	@if [ -n "$(UNITDIR)" ]; then install -v -d "$(DESTDIR)$(UNITDIR)" && \
		install -v -m 0644 $(STAGE)/mprdsd.service "$(DESTDIR)$(UNITDIR)/mprdsd.service"; fi
	@mkdir -p $(STAGE)/man && for m in $(MAN_SRC); do \
		$(INSTALL_SUBST) $$m > $(STAGE)/man/$${m##*/} && \
		install -v -d "$(DESTDIR)$(MANDIR)/man$${m##*.}" && \
		install -v -m 0644 $(STAGE)/man/$${m##*/} "$(DESTDIR)$(MANDIR)/man$${m##*.}/"; \
	done

version:
	@echo $(VERSION)

# The Debian package (debian/), built from a copy of the tree by tools/deb.sh.
deb:
	$(Q)bash tools/deps.sh deb
	$(Q)bash tools/deb.sh $(BUILD)/deb

# It builds, lintian finds no error, and installed it serves programs and purges clean (as
# root: bats/90-deb.bats, also part of make check).
deb-check: deb
	$(Q)MPRDS_DEB_DIR=$(abspath $(BUILD)/deb) $(BATS) --tap --timing \
		--print-output-on-failure bats/90-deb.bats

clean:
	rm -rf $(sort build build-san $(BUILD))

format:
	clang-format -i $$(find core shim include tests tools bats -name '*.[ch]' 2>/dev/null)

.PHONY: FORCE all lib tests progs tools fuzzers map rooms unit integration integration-process fuzz-run interop interop-check \
	check demo fuzz bench bench-hostwide \
	service install version deb deb-check clean format

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
