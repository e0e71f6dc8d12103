# ctlua - build, test and demo. `make V=1` shows the commands.
#
#   make          build build/ctlua, build/ct.so and the unit tests
#   make test     install what is missing, build, run every test (prove)
#   make demo     install what is missing, build, run the two-namespace demo
#   make install  PREFIX=/usr/local

PREFIX    ?= /usr/local
# Debian's lua5.4 searches $(PREFIX)/lib/lua/5.4 for C modules.
LUA_CMOD  ?= $(PREFIX)/lib/lua/5.4
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
CFLAGS    += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -fPIC -I$(BUILD) -Ibpf -Isrc \
             -DCTLUA_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Everything but Lua: ct.so takes Lua from the interpreter that loads it.
SYS_LIBS  := $(shell pkg-config --libs libbpf libnetfilter_conntrack libmnl 2>/dev/null) -lelf -lz
LIBS      := $(shell pkg-config --libs lua5.4 2>/dev/null) $(SYS_LIBS)
# clang -target bpf does not see the host's system include dirs on its own.
CLANG_SYS := $(shell $(CLANG) -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

# The command's own files: the rest is the core, shared with ct.so and the unit tests.
CMD_SRC   := src/main.c src/run.c src/repl.c src/repl_complete.c
CMD_OBJ   := $(CMD_SRC:src/%.c=$(BUILD)/%.o)
CORE_SRC  := $(filter-out $(CMD_SRC), $(wildcard src/*.c))
CORE_OBJ  := $(CORE_SRC:src/%.c=$(BUILD)/%.o) $(BUILD)/help_text.o
UNIT_SRC  := $(wildcard tests/unit/*.c)

all: $(BUILD)/ctlua $(BUILD)/ct.so $(BUILD)/unit_tests $(BUILD)/ctlua.1

$(BUILD):
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/ctlua.bpf.o: bpf/ctlua.bpf.c bpf/ctlua.h bpf/kfuncs.h $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf \
		$(CLANG_SYS) -c $< -o $@

$(BUILD)/ctlua.skel.h: $(BUILD)/ctlua.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ctlua_bpf > $@.tmp && mv $@.tmp $@

# doc/api.md is the API reference, and the one source of help()'s texts
# (scripts/gen-help.awk, src/help.c) and of the man page's LUA API section.
$(BUILD)/help_text.c: doc/api.md scripts/gen-help.awk | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)LC_ALL=C awk -f scripts/gen-help.awk doc/api.md > $@.tmp && mv $@.tmp $@

$(BUILD)/ctlua.1: doc/ctlua.1.in doc/api.md scripts/gen-man.awk | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)LC_ALL=C awk -f scripts/gen-man.awk doc/api.md doc/ctlua.1.in > $@.tmp && mv $@.tmp $@

$(BUILD)/help_text.o: $(BUILD)/help_text.c src/help.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) bpf/ctlua.h $(BUILD)/ctlua.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/ctlua: $(CMD_OBJ) $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) -lreadline

# The same core as a stock Lua 5.4 C module: lua5.4 -e 'ct = require "ct"'. Like every
# C module it takes the Lua API from the interpreter that loads it, not from liblua.
$(BUILD)/ct.so: $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -shared -o $@ $^ $(SYS_LIBS)

$(BUILD)/unit_tests: $(UNIT_SRC) $(CORE_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $(UNIT_SRC) $(CORE_OBJ) $(LIBS)

deps:
	$(Q)scripts/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)prove -f tests/

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)lab/demo.sh

install: all
	install -D -m 755 $(BUILD)/ctlua $(DESTDIR)$(PREFIX)/bin/ctlua
	install -D -m 644 $(BUILD)/ct.so $(DESTDIR)$(LUA_CMOD)/ct.so
	install -D -m 644 $(BUILD)/ctlua.1 $(DESTDIR)$(PREFIX)/share/man/man1/ctlua.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ctlua $(DESTDIR)$(LUA_CMOD)/ct.so \
		$(DESTDIR)$(PREFIX)/share/man/man1/ctlua.1

clean:
	rm -rf $(BUILD)

.PHONY: all deps test demo install uninstall clean
.DELETE_ON_ERROR:

# Benchmarks (bench/README.md): `make bench` runs every row, `make bench-quick` fewer
# rounds of smaller sets. Both need root; the table goes to stdout and the numbers to
# bench/results.json.
# One program per bench/*.c; kfunc_batch also links ctlua's datapath objects.
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
BENCH_LIBS := $(shell pkg-config --libs libbpf libmnl 2>/dev/null) -lelf -lz -lpthread

$(BUILD)/bench:
	$(Q)mkdir -p $@

# The bare C baseline links ctlua's own datapath objects, so it runs the same code.
$(BUILD)/bench/kfunc_batch: bench/kfunc_batch.c $(wildcard bench/*.h) $(BUILD)/datapath.o \
		$(BUILD)/probe.o | $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/datapath.o $(BUILD)/probe.o $(BENCH_LIBS)

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(BUILD)/ctlua.skel.h | $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BENCH_LIBS)

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)bench/run

bench-quick: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)bench/run --quick

.PHONY: bench bench-quick

# tests/15-match.t loads src/match.c through this module (tests/lib/matchtest.c).
all: $(BUILD)/matchtest.so
$(BUILD)/matchtest.so: tests/lib/matchtest.c $(BUILD)/match.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -shared -o $@ $^
