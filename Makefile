# ctlua - build, test and demo. `make V=1` shows the commands.
#
#   make          build build/ctlua, build/ct.so and the unit tests
#   make test     install what is missing, build, run every test (prove) twice: under
#                 ASan+UBSan (build/asan) and as built; the fuzzers for 10 s each between
#   make asan     the sanitizer build alone: build/asan/{ctlua,ct.so,unit_tests}
#   make fuzz     each libFuzzer harness (fuzz/) for FUZZ_SECONDS (default 60)
#   make demo     install what is missing, build, run the two-namespace demo
#   make install  PREFIX=/usr/local (DESTDIR=/stage to stage a package); make uninstall

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
# Debian's lua5.4 searches $(PREFIX)/lib/lua/5.4 for C modules and $(PREFIX)/share/lua/5.4
# for Lua ones: lua/NAME.lua is installed as the module ctlua.NAME.
LUA_CMOD  ?= $(PREFIX)/lib/lua/5.4
LUA_LMOD  ?= $(PREFIX)/share/lua/5.4/ctlua
EXAMPLEDIR ?= $(PREFIX)/share/ctlua/examples
# Where systemd looks for packaged units: its own answer for /usr, else under PREFIX.
ifeq ($(PREFIX),/usr)
SYSTEMD_UNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system)
else
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
endif
BUILD     := build
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= cc
VERSION   := 0.1.0

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PKGS      := libbpf lua5.4 libnetfilter_conntrack libmnl
CFLAGS    ?= -O2 -g
# What every build of the host needs, whatever CFLAGS the user gives.
HOST_CFLAGS := -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -fPIC -I$(BUILD) -Ibpf -Isrc \
             -DCTLUA_VERSION='"$(VERSION)"' -DCTLUA_EXAMPLEDIR='"$(EXAMPLEDIR)"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Each object also writes a .d file naming the headers it included (-MP: a header that
# goes away does not break the build), so a change to any header rebuilds its users.
DEPFLAGS  := -MMD -MP
# Everything but Lua: ct.so takes Lua from the interpreter that loads it.
SYS_LIBS  := $(shell pkg-config --libs libbpf libnetfilter_conntrack libmnl 2>/dev/null) -lelf -lz
LIBS      := $(shell pkg-config --libs lua5.4 2>/dev/null) $(SYS_LIBS)
# The command alone: sd_notify for ctlua run (src/service.c). ct.so and the core do without.
CMD_LIBS  := $(shell pkg-config --libs libsystemd 2>/dev/null)
# clang -target bpf does not see the host's system include dirs on its own.
CLANG_SYS := $(shell $(CLANG) -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

# The host's objects, one per line, by layer. A new src/FILE.c needs its line here, in
# its group (nothing is found by wildcard, so a stray file cannot slip into the build).
#
# The command's own files: ctlua's dispatch, batch runner and shell.
CMD_OBJS  := main.o
CMD_OBJS  += run.o
CMD_OBJS  += repl.o
CMD_OBJS  += repl_complete.o
CMD_OBJS  += service.o		# ctlua run: the policy as a service (links libsystemd)
CMD_OBJS  += policy_check.o	# ctlua check POLICY
CMD_OBJS  += replay.o	# ctlua replay FILE POLICY
CMD_OBJS  += control.o		# ctlua run's control socket (server side)
CMD_OBJS  += control_client.o	# ctlua status NAME, ctlua shell NAME
CMD_OBJS  += lua_library.o	# the Lua half, lua/*.lua, preloaded as ctlua.NAME
CMD_OBJS  += lua_library_text.o	# generated from lua/*.lua (below)
# The core, shared by ctlua, ct.so, the unit tests and the fuzz harnesses.
# Pure functions (no kernel, no Lua): names, addresses, errnos, the printer.
CORE_OBJS := addr.o
CORE_OBJS += names.o
CORE_OBJS += explain.o
CORE_OBJS += pretty.o
CORE_OBJS += fields.o
CORE_OBJS += json.o		# JSON lines (ctlua run --json)
CORE_OBJS += rules.o
CORE_OBJS += rule_class.o
CORE_OBJS += help.o
CORE_OBJS += log.o		# messages on stderr, levelled in a service
CORE_OBJS += help_text.o	# generated from doc/api.md (below)
# The kernel side's user half: the BPF object, tc, netlink, namespaces, the wait loop.
CORE_OBJS += datapath.o
CORE_OBJS += sets.o		# named sets: the host's copy, kept in step with the set maps
CORE_OBJS += rule_counts.o	# ctl_counts: summed, and carried across rule switches
CORE_OBJS += verdict_buf.o
CORE_OBJS += probe.o
CORE_OBJS += tc.o
CORE_OBJS += xdp.o		# ctlua at XDP: a bpf_link per interface
CORE_OBJS += owner.o
CORE_OBJS += pin.o
CORE_OBJS += nlreq.o
CORE_OBJS += netns.o
CORE_OBJS += link_watch.o
CORE_OBJS += loop.o
CORE_OBJS += watchdog.o
CORE_OBJS += conntrack.o
# What keeps a policy from hanging or exhausting the host: budgets, memory, patterns.
CORE_OBJS += sandbox.o
CORE_OBJS += match.o
# The `ct` Lua module: one file per group of functions.
CORE_OBJS += lua_ct.o
CORE_OBJS += lua_check.o
CORE_OBJS += arg_keys.o	# the fields of option tables (checkers, completion)
CORE_OBJS += lua_push.o
CORE_OBJS += lua_tuple.o
CORE_OBJS += lua_entry.o
CORE_OBJS += lua_link.o
CORE_OBJS += lua_policy.o
CORE_OBJS += lua_counts.o	# ct.rules()'s counts, ct.stats().sources
CORE_OBJS += ratelimit.o	# rate limits: the slots of the program's spec array
CORE_OBJS += lua_limit.o	# ct.limits, ct.limit, a rule's limit field
CORE_OBJS += lua_set.o		# ct.set, ct.sets
CORE_OBJS += lua_events.o
CORE_OBJS += lua_stage.o
CORE_OBJS += lua_event.o
CORE_OBJS += lua_direct.o
CORE_OBJS += lua_request.o
CORE_OBJS += lua_kernel.o
CORE_OBJS += lua_conntrack.o
CORE_OBJS += lua_timer.o		# ct.now, ct.timer, ct.every
CORE_OBJS += lua_record.o	# ct.record
CORE_OBJS += recorder.o		# ct.record and ctlua run --record: events as JSON lines
CORE_OBJS += lab_net.o		# the lab's sockets and namespace switch (lua/lab.lua)

# A file in src/ that no list names would only show as an undefined symbol: say so.
UNLISTED  := $(filter-out $(CMD_OBJS) $(CORE_OBJS),$(patsubst src/%.c,%.o,$(wildcard src/*.c)))
ifneq ($(UNLISTED),)
$(warning src/ has files no object list names: $(UNLISTED:.o=.c); add them to CMD_OBJS or CORE_OBJS)
endif

CMD_OBJ   := $(addprefix $(BUILD)/,$(CMD_OBJS))
CORE_OBJ  := $(addprefix $(BUILD)/,$(CORE_OBJS))
UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_HDR  := $(wildcard tests/unit/*.h)

all: $(BUILD)/ctlua $(BUILD)/ct.so $(BUILD)/unit_tests $(BUILD)/matchtest.so $(BUILD)/ctlua.1

$(BUILD) $(BUILD)/asan $(BUILD)/fuzz:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/ctlua.bpf.o: bpf/ctlua.bpf.c bpf/ctlua.h bpf/kfuncs.h bpf/limit.h bpf/setmatch.h $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf \
		$(CLANG_SYS) -c $< -o $@

$(BUILD)/ctlua.skel.h: $(BUILD)/ctlua.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ctlua_bpf > $@.tmp && mv $@.tmp $@

# doc/api.md is the API reference, and the one source of help()'s texts
# (scripts/gen-help.awk, src/help.c) and of the man page's LUA API section.
$(BUILD)/help_text.c: doc/api.md scripts/gen-help.awk scripts/md-links.awk | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)LC_ALL=C awk -f scripts/md-links.awk -f scripts/gen-help.awk doc/api.md > $@.tmp && mv $@.tmp $@

# The Lua library is built into the command (src/lua_library.c), so that build/ctlua and
# an installed ctlua each run with the library of their own version. Made on every build
# and replaced only when it differs, so that a file removed from lua/ leaves it too.
LUA_LIB   := $(sort $(wildcard lua/*.lua))
$(BUILD)/lua_library_text.c: scripts/gen-lua-lib.awk FORCE | $(BUILD)
	$(Q)LC_ALL=C awk -f scripts/gen-lua-lib.awk $(LUA_LIB) /dev/null > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else printf '  %-8s %s\n' GEN $@; mv $@.tmp $@; fi

$(BUILD)/ctlua.1: doc/ctlua.1.in doc/api.md scripts/gen-man.awk scripts/md-links.awk | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)LC_ALL=C awk -f scripts/md-links.awk -f scripts/gen-man.awk doc/api.md doc/ctlua.1.in \
		> $@.tmp && mv $@.tmp $@

# Objects. The skeleton is generated before the first compile (the .d files know who
# includes it after that). An object without its .d file is rebuilt, so the first build
# with dependency files (or one whose .d was lost) cannot miss a header.
$(BUILD)/help_text.o: $(BUILD)/help_text.c $(BUILD)/help_text.d
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/lua_library_text.o: $(BUILD)/lua_library_text.c $(BUILD)/lua_library_text.d
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.o: src/%.c $(BUILD)/%.d | $(BUILD)/ctlua.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/ctlua: $(CMD_OBJ) $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(CMD_LIBS) -lreadline

# The same core as a stock Lua 5.4 C module: lua5.4 -e 'ct = require "ct"'. Like every
# C module it takes the Lua API from the interpreter that loads it, not from liblua.
# -z nodelete: lua_close unloads C modules, but ct.so keeps process-wide state (its
# atexit handler, the record of attached filters) that must outlive the Lua state.
$(BUILD)/ct.so: $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-z,nodelete -o $@ $^ $(SYS_LIBS)

$(BUILD)/unit_tests: $(UNIT_SRC) $(UNIT_HDR) $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $(UNIT_SRC) $(CORE_OBJ) $(LIBS)

# tests/15-match.t loads src/match.c through this module (tests/lib/matchtest.c), to
# compare it with a fresh copy of Lua's own string functions.
$(BUILD)/matchtest.so: tests/lib/matchtest.c $(BUILD)/match.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -shared -o $@ $^

# tests/89-parse-passed.t runs random frames through the parser with this
# (tests/lib/parse_check.c), against what the guide says becomes of them.
$(BUILD)/parse_check: tests/lib/parse_check.c $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $^ $(LIBS)
all: $(BUILD)/parse_check

# The sanitizer build: the same programs in build/asan/, with AddressSanitizer (and its
# LeakSanitizer) and UndefinedBehaviorSanitizer; the first report ends the process.
# `make test` runs the whole suite with them (scripts/test-sanitized.sh).
ASAN      := $(BUILD)/asan
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
ASAN_CMD  := $(addprefix $(ASAN)/,$(CMD_OBJS))
ASAN_CORE := $(addprefix $(ASAN)/,$(CORE_OBJS))
# Stock lua5.4 is not built with ASan: to load the sanitized ct.so the runtime must come
# first, so the sanitizer pass finds lua5.4 in $(ASAN)/bin, a wrapper that preloads it.
LIBASAN   := $(shell $(CC) -print-file-name=libasan.so)

asan: $(ASAN)/ctlua $(ASAN)/ct.so $(ASAN)/unit_tests $(ASAN)/bin/lua5.4

$(ASAN)/help_text.o: $(BUILD)/help_text.c $(ASAN)/help_text.d | $(ASAN)
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(ASAN)/lua_library_text.o: $(BUILD)/lua_library_text.c $(ASAN)/lua_library_text.d | $(ASAN)
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(ASAN)/%.o: src/%.c $(ASAN)/%.d | $(BUILD)/ctlua.skel.h $(ASAN)
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(ASAN)/ctlua: $(ASAN_CMD) $(ASAN_CORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS) $(CMD_LIBS) -lreadline

$(ASAN)/ct.so: $(ASAN_CORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SAN_FLAGS) -shared -Wl,-z,nodelete -o $@ $^ $(SYS_LIBS)

$(ASAN)/unit_tests: $(UNIT_SRC) $(UNIT_HDR) $(ASAN_CORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $(UNIT_SRC) $(ASAN_CORE) $(LIBS)

$(ASAN)/bin/lua5.4: Makefile | $(ASAN)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '#!/bin/sh\n# lua5.4 with the ASan runtime preloaded, to load %s/ct.so\nLD_PRELOAD=%s exec %s "$$@"\n' \
		'$(ASAN)' '$(LIBASAN)' "$$(command -v lua5.4)" > $@.tmp && chmod +x $@.tmp && mv $@.tmp $@

# libFuzzer harnesses (fuzz/*_fuzz.c, one per parser a user's bytes reach), built with clang against
# the core compiled for coverage, ASan and UBSan in build/fuzz/. The --wrap stand-ins
# (fuzz/fuzz.c) keep every harness away from the kernel. `make fuzz` runs each for
# FUZZ_SECONDS; `make test` runs each for a few seconds on its committed corpus.
FUZZ      := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_NAMES := $(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c))
FUZZ_BIN  := $(FUZZ_NAMES:%=$(FUZZ)/%_fuzz)
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
FUZZ_CORE := $(addprefix $(FUZZ)/,$(CORE_OBJS)) $(FUZZ)/fuzz.o
FUZZ_EXTRA := $(FUZZ)/repl_complete.o	# not core: for complete_fuzz only
FUZZ_WRAP := -Wl,--wrap=ctl_dp_open -Wl,--wrap=ctl_netns_nsid \
             -Wl,--wrap=ctl_dp_realtime_offset

fuzz-build: $(FUZZ_BIN)
# The matcher polls every 64 steps here, so match_fuzz can skip an input that would keep
# stock Lua's matcher backtracking for seconds before it ever reaches that one.
$(FUZZ)/match.o: FUZZ_FLAGS += -DCTL_MATCH_POLL_STEPS=64
# clang writes the .d after the object: `touch` keeps the object the newer of the two.
# Objects made on the way to a harness are kept, so a rebuild compiles only what changed.
.SECONDARY: $(FUZZ_CORE) $(FUZZ_EXTRA) $(FUZZ_NAMES:%=$(FUZZ)/%_fuzz.o)

$(FUZZ)/help_text.o: $(BUILD)/help_text.c $(FUZZ)/help_text.d | $(FUZZ)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(HOST_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@ && touch $@

$(FUZZ)/%.o: src/%.c $(FUZZ)/%.d | $(BUILD)/ctlua.skel.h $(FUZZ)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(HOST_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@ && touch $@

$(FUZZ)/%.o: fuzz/%.c $(FUZZ)/%.d | $(BUILD)/ctlua.skel.h $(FUZZ)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(HOST_CFLAGS) -Ifuzz $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@ && touch $@

# completion is the shell's (CMD_OBJS): its harness links it, and readline
$(FUZZ)/complete_fuzz: $(FUZZ_EXTRA)
$(FUZZ)/complete_fuzz: LIBS += -lreadline
$(FUZZ)/%_fuzz: $(FUZZ)/%_fuzz.o $(FUZZ_CORE)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_WRAP) $(LIBS) -lm

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)fuzz/run $(FUZZ_SECONDS) $(FUZZ_NAMES)

deps:
	$(Q)scripts/install-deps.sh

# The suite runs twice: against build/asan first (any sanitizer report fails), then
# the fuzz harnesses for a few seconds each, then against build/ as shipped, last, so
# the closing line is that run's `Result: PASS`, which CI reads.
test: deps
	$(Q)$(MAKE) --no-print-directory all asan fuzz-build
	$(Q)scripts/test-sanitized.sh
	$(Q)fuzz/run --ci $(FUZZ_NAMES)
	$(Q)prove -f tests/

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)lab/demo.sh

# What `make install` puts where (DESTDIR prefixes them all); `uninstall` removes exactly
# these files, then the directories that are ctlua's own if they are left empty. The Lua
# library and the examples are taken from lua/*.lua and examples/ as they are when make runs.
EXAMPLES  := $(wildcard examples/*)
UNIT      := ctlua@.service
INSTALLED := $(BINDIR)/ctlua $(LUA_CMOD)/ct.so $(MANDIR)/man1/ctlua.1 \
             $(SYSTEMD_UNITDIR)/$(UNIT) \
             $(addprefix $(EXAMPLEDIR)/,$(notdir $(EXAMPLES))) \
             $(addprefix $(LUA_LMOD)/,$(notdir $(LUA_LIB)))
OWN_DIRS  := $(LUA_LMOD) $(EXAMPLEDIR) $(dir $(EXAMPLEDIR))

# The unit with the installed binary's path in ExecStart (dist/ctlua@.service.in). Made
# on every install, replaced only when it differs: BINDIR may change between runs.
$(BUILD)/$(UNIT): dist/$(UNIT).in FORCE | $(BUILD)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' $< > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else printf '  %-8s %s\n' GEN $@; mv $@.tmp $@; fi

FORCE:

install: all $(BUILD)/$(UNIT)
	install -D -m 755 $(BUILD)/ctlua $(DESTDIR)$(BINDIR)/ctlua
	install -D -m 644 $(BUILD)/ct.so $(DESTDIR)$(LUA_CMOD)/ct.so
	install -D -m 644 $(BUILD)/ctlua.1 $(DESTDIR)$(MANDIR)/man1/ctlua.1
	install -D -m 644 $(BUILD)/$(UNIT) $(DESTDIR)$(SYSTEMD_UNITDIR)/$(UNIT)
	install -d -m 755 $(DESTDIR)$(EXAMPLEDIR)
	$(if $(EXAMPLES),install -m 644 $(EXAMPLES) $(DESTDIR)$(EXAMPLEDIR)/)
	$(if $(LUA_LIB),install -d -m 755 $(DESTDIR)$(LUA_LMOD))
	$(if $(LUA_LIB),install -m 644 $(LUA_LIB) $(DESTDIR)$(LUA_LMOD)/)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(addprefix $(DESTDIR),$(OWN_DIRS)) 2>/dev/null || true

clean:
	rm -rf $(BUILD)

.PHONY: all asan fuzz fuzz-build deps test demo install uninstall clean FORCE
.DELETE_ON_ERROR:

# Every object's .d, named as a target so that a missing one is out of date (not an
# intermediate file) and rebuilds its object.
DEPFILES  := $(patsubst %.o,%.d,$(CMD_OBJ) $(CORE_OBJ) $(ASAN_CMD) $(ASAN_CORE) $(FUZZ_CORE) \
             $(FUZZ_EXTRA) $(FUZZ_NAMES:%=$(FUZZ)/%_fuzz.o))
$(DEPFILES):
-include $(wildcard $(DEPFILES))

# Benchmarks (bench/README.md): `make bench` runs every row, `make bench-quick` fewer
# rounds of smaller sets. Both need root; the table goes to stdout and the numbers to
# bench/results.json.
# One program per bench/progs/*.c (bench/README.md, "Files"); kfunc_batch also links
# ctlua's datapath objects.
BENCH_BIN := $(patsubst bench/progs/%.c,$(BUILD)/bench/%,$(wildcard bench/progs/*.c))
BENCH_HDR := $(wildcard bench/progs/*.h)
BENCH_LIBS := $(shell pkg-config --libs libbpf libmnl 2>/dev/null) -lelf -lz -lpthread

$(BUILD)/bench:
	$(Q)mkdir -p $@

# The datapath's objects, with what they call (pinning, and the log pin.c reports to).
DP_OBJ := $(addprefix $(BUILD)/,datapath.o rule_counts.o ratelimit.o probe.o rule_class.o pin.o log.o json.o fields.o explain.o \
	  names.o addr.o)

# The bare C baseline links ctlua's own datapath objects, so it runs the same code.
$(BUILD)/bench/kfunc_batch: bench/progs/kfunc_batch.c $(BENCH_HDR) $(DP_OBJ) | $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $< $(DP_OBJ) $(BENCH_LIBS)

# Row 2b's test runs load the object through the datapath, and write rules as ct.rule does.
RULES_TR_OBJ := $(DP_OBJ) $(BUILD)/rules.o $(BUILD)/sets.o
$(BUILD)/bench/rules_testrun: bench/progs/rules_testrun.c $(BENCH_HDR) $(RULES_TR_OBJ) | $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $< $(RULES_TR_OBJ) $(BENCH_LIBS)

# The sets' test runs fill a set as set:add does, and write a rule that names it.
$(BUILD)/bench/sets_testrun: bench/progs/sets_testrun.c $(BENCH_HDR) $(RULES_TR_OBJ) | $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $< $(RULES_TR_OBJ) $(BENCH_LIBS)

$(BUILD)/bench/%: bench/progs/%.c $(BENCH_HDR) $(BUILD)/ctlua.skel.h | $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_CFLAGS) -o $@ $< $(BENCH_LIBS)

# The tables in the docs are a full run's output, never edited by hand: `make bench` ends
# by writing the goals into README.md and every contender into BENCH_TABLE_DOC, between
# their markers; `make bench-readme` writes them again from bench/results.json
# (scripts/bench-table refuses a quick run's).
BENCH_TABLE_DOC ?= doc/performance.md
BENCH_TABLES = scripts/bench-table --replace $(BENCH_TABLE_DOC) && \
	scripts/bench-table --goals --replace README.md

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)bench/run
	$(Q)$(BENCH_TABLES)

bench-quick: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)bench/run --quick

bench-readme:
	$(Q)$(BENCH_TABLES)

.PHONY: bench bench-quick bench-readme
