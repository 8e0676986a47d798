# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Nascar: one Makefile, out-of-tree build in $(O) (default build/).
#
#   make               build everything into build/
#   make check         all test tiers (compiler, unit, bpf, e2e); needs root for bpf/e2e
#   make check SAN=1   the same with AddressSanitizer + UBSan on userspace code
#   make check-vm      BPF and e2e tests on Debian 12's 6.1 kernel under qemu,
#                      ARCH=x86_64 (default) or ARCH=arm64 (cross-built); docs/vm.md
#   make bench         benchmarks (never pass/fail on speed)
#   make install       PREFIX=/usr/local DESTDIR= (programs, man pages, policies, nascar.service)
#   make deb           a Debian package (dpkg-buildpackage -us -uc -b; ../nascar_*.deb)
#   make check-pkg     build the .deb in a copy of the tree, install, check, purge it (root)
#   V=1                show full command lines

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=
SAN ?= 0

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
FLEX ?= flex
BISON ?= bison

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(CFLAGS) -Iinclude -Ilib -Icompiler -I$(O) -I$(O)/compiler -MMD -MP
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
USER_CFLAGS := $(BASE_CFLAGS) $(WARN) $(SAN_FLAGS)
# flex and bison output is not -Wextra clean; relaxed set for generated code only.
GEN_CFLAGS := $(BASE_CFLAGS) -Wall -Werror -Wno-unused-function -Wno-sign-compare $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)

LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
# zlib: runtime/probe.c reads /proc/config.gz (libbpf-dev depends on zlib1g-dev)
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf) -lz

ARCH_INC := -I/usr/include/$(shell $(CC) -dumpmachine)
BPF_CFLAGS := -target bpf -O2 -g -Wall -Wextra -Werror -Wshadow -Wimplicit-fallthrough \
	-Wno-unused-parameter -Iinclude -Ibpf $(ARCH_INC)

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
.PHONY: all check check-compiler check-unit check-bpf check-e2e bench bench-quick \
	install uninstall clean format-check lint demo check-vm programs deb check-pkg

# ---- sources ------------------------------------------------------------

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
LIBNASCAR := $(O)/libnascar.a

COMPILER_SRCS := $(wildcard compiler/*.c)
COMPILER_OBJS := $(COMPILER_SRCS:%.c=$(O)/%.o) $(O)/compiler/parser.o $(O)/compiler/lexer.o
COMPILER_LIB_OBJS := $(filter-out $(O)/compiler/main.o,$(COMPILER_OBJS))

# the data path in bpf/; programs only the benchmarks load in bench/bpf/
BPF_SRCS := $(wildcard bpf/*.bpf.c bench/bpf/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(O)/%.bpf.o,$(notdir $(BPF_SRCS)))
BPF_SKELS := $(patsubst %.bpf.c,$(O)/%.skel.h,$(notdir $(BPF_SRCS)))

RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(O)/%.o)
RUNTIME_LIB_OBJS := $(filter-out $(O)/runtime/main.o,$(RUNTIME_OBJS))

TOOL_SRCS := $(wildcard tools/*.c)
TOOLS := $(TOOL_SRCS:tools/%.c=$(O)/tools/%)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

BPFTEST_SRCS := $(wildcard tests/bpf/*.c)
BPFTEST_BIN := $(if $(BPFTEST_SRCS),$(O)/tests/bpf_tests)

FUZZ_SRCS := $(wildcard tests/fuzz/*.c)

BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(O)/bench/%)

PROGRAMS := $(O)/nascarc $(if $(RUNTIME_SRCS),$(O)/nascar-apply)

all: $(PROGRAMS) $(BPF_OBJS) $(BPF_SKELS) $(TOOLS) $(UNIT_BINS) $(BPFTEST_BIN) $(BENCH_BINS)

# ---- userspace ----------------------------------------------------------

$(O)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(LIBBPF_CFLAGS) -c $< -o $@

$(LIBNASCAR): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/compiler/parser.c $(O)/compiler/parser.h: compiler/parser.y
	$(call msg,BISON,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BISON) -Wall -Werror --defines=$(O)/compiler/parser.h -o $(O)/compiler/parser.c $<

$(O)/compiler/lexer.c $(O)/compiler/lexer.h: compiler/lexer.l
	$(call msg,FLEX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FLEX) --header-file=$(O)/compiler/lexer.h -o $(O)/compiler/lexer.c $<

$(O)/compiler/parser.o: $(O)/compiler/parser.c $(O)/compiler/lexer.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(GEN_CFLAGS) -Icompiler -c $< -o $@

$(O)/compiler/lexer.o: $(O)/compiler/lexer.c $(O)/compiler/parser.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(GEN_CFLAGS) -Icompiler -c $< -o $@

# Hand-written compiler sources include the generated headers.
$(COMPILER_SRCS:%.c=$(O)/%.o): | $(O)/compiler/parser.h $(O)/compiler/lexer.h

$(O)/nascarc: $(COMPILER_OBJS) $(LIBNASCAR)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

# ---- BPF ----------------------------------------------------------------

$(O)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/nascar_abi.h include/nascar_classify.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/%.bpf.o: bench/bpf/%.bpf.c $(wildcard bench/bpf/*.h bpf/*.h) include/nascar_abi.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/%.skel.h: $(O)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(RUNTIME_OBJS) $(BPFTEST_SRCS:%.c=$(O)/%.o): | $(BPF_SKELS)

$(O)/nascar-apply: $(RUNTIME_OBJS) $(LIBNASCAR)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBBPF_LIBS) -o $@

# ---- tools and tests ----------------------------------------------------

$(O)/tools/%: tools/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $< -o $@ -lpthread

$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(COMPILER_LIB_OBJS) $(LIBNASCAR)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

# runtime unit tests link the pure part of nascar-apply they test
$(O)/tests/test_sched: $(O)/runtime/sched.o
$(O)/tests/test_plan: $(O)/runtime/plan.o

$(O)/bench/%: $(O)/bench/%.o $(RUNTIME_LIB_OBJS) $(LIBNASCAR)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBBPF_LIBS) -o $@

$(BENCH_SRCS:%.c=$(O)/%.o): | $(BPF_SKELS)

$(O)/tests/unit/%.o: | $(O)/compiler/parser.h $(O)/compiler/lexer.h

$(O)/tests/bpf_tests: $(BPFTEST_SRCS:%.c=$(O)/%.o) $(RUNTIME_LIB_OBJS) $(LIBNASCAR)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBBPF_LIBS) -o $@

# libFuzzer targets: clang only, always with ASan/UBSan, built on demand.
FUZZ_COMMON := $(filter-out compiler/main.c,$(COMPILER_SRCS)) $(O)/compiler/parser.c \
	$(O)/compiler/lexer.c $(LIB_SRCS)
$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_COMMON)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -O1 -g -Iinclude -Ilib -I$(O)/compiler -Icompiler \
		-fsanitize=fuzzer,address,undefined -DNASCAR_FUZZ $< $(FUZZ_COMMON) -o $@

# ---- checks -------------------------------------------------------------

# Every tier prints "N passed, N failed"; tests/run.sh adds them up.
check: all
	$(Q)O=$(O) SAN=$(SAN) sh tests/run.sh all

check-compiler: all
	$(Q)O=$(O) SAN=$(SAN) sh tests/run.sh compiler

check-unit: all
	$(Q)O=$(O) SAN=$(SAN) sh tests/run.sh unit

check-bpf: all
	$(Q)O=$(O) SAN=$(SAN) sh tests/run.sh bpf

check-e2e: all
	$(Q)O=$(O) SAN=$(SAN) sh tests/run.sh e2e

# The VM tier builds what it needs itself (into $(O)/vm/ARCH/obj) and caches
# the kernel package and the base image under $(O)/vm/.
VM_ARCH := $(if $(ARCH),$(ARCH),$(shell uname -m))
check-vm:
	$(Q)O=$(O) bash tools/vm/check-vm.sh $(VM_ARCH)

bench: all
	$(Q)O=$(O) sh bench/run.sh

bench-quick: all
	$(Q)O=$(O) sh bench/run.sh --quick

demo: all
	$(Q)O=$(O) sh tools/demo.sh

format-check:
	$(Q)clang-format --dry-run --Werror $(wildcard include/*.h lib/*.[ch] compiler/*.[ch] runtime/*.[ch] bpf/*.[ch] bench/*.c bench/bpf/*.[ch] tests/*/*.[ch] tools/*.c)

lint:
	$(Q)cppcheck --quiet --enable=warning,portability,performance --error-exitcode=1 \
		--include=/usr/include/bpf/libbpf_common.h -Iinclude -Ilib compiler/*.c runtime/*.c lib/*.c

# ---- install ------------------------------------------------------------

# The unit goes where systemd looks: /lib/systemd/system for PREFIX=/usr
# (Debian 12's place for packaged units), else PREFIX/lib/systemd/system
# (/usr/local/lib/systemd/system is on systemd's search path too).
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
NASCAR_LIBDIR := $(PREFIX)/lib/nascar
INSTALL_SUBST := sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SBINDIR@|$(PREFIX)/sbin|g' \
	-e 's|@LIBDIR@|$(NASCAR_LIBDIR)|g' -e 's|@DATADIR@|$(PREFIX)/share|g'

install: $(PROGRAMS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(O)/nascarc $(DESTDIR)$(PREFIX)/bin/nascarc
	$(if $(RUNTIME_SRCS),install -m 0755 $(O)/nascar-apply $(DESTDIR)$(PREFIX)/sbin/nascar-apply)
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	for m in $(wildcard docs/*.1); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for m in $(wildcard docs/*.5); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man5/; done
	for m in $(wildcard docs/*.8); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	install -d $(DESTDIR)$(PREFIX)/share/nascar/policies
	install -m 0644 policies/*.nflow $(DESTDIR)$(PREFIX)/share/nascar/policies/
	mkdir -p $(O)/install
	$(INSTALL_SUBST) tools/systemd/nascar-service >$(O)/install/nascar-service
	$(INSTALL_SUBST) tools/systemd/nascar.service.in >$(O)/install/nascar.service
	install -d $(DESTDIR)$(NASCAR_LIBDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(O)/install/nascar-service $(DESTDIR)$(NASCAR_LIBDIR)/nascar-service
	install -m 0644 $(O)/install/nascar.service $(DESTDIR)$(SYSTEMDUNITDIR)/nascar.service

# nascarc and nascar-apply alone (what a package needs; debian/rules)
programs: $(PROGRAMS)

# debian/: the build runs this Makefile with O=debian/build; the .deb lands
# in the parent directory, as dpkg-buildpackage puts it.
deb:
	dpkg-buildpackage -us -uc -b

# Builds the .deb in a temporary copy of the tree (build/ and O untouched),
# runs lintian, installs it with dpkg -i, checks it, purges it (root).
check-pkg:
	$(Q)O=$(O) sh tests/run.sh pkg

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nascarc $(DESTDIR)$(PREFIX)/sbin/nascar-apply
	rm -rf $(DESTDIR)$(PREFIX)/share/nascar $(DESTDIR)$(NASCAR_LIBDIR)
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/nascar.service
	for m in $(notdir $(wildcard docs/*.1)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$$m; done
	for m in $(notdir $(wildcard docs/*.5)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$$m; done
	for m in $(notdir $(wildcard docs/*.8)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$$m; done

clean:
	rm -rf $(O)

# (not $(O)/vm: the VM tier's own builds and image trees live there)
-include $(shell find $(O) -path '$(O)/vm' -prune -o -name '*.d' -type f -print 2>/dev/null)
