# kbuild-patch: top-level build, install and test entry points.
#
#   make                 build the C tools (create-diff-object, klp-convert,
#                        klp-loadcheck)
#   make install         install under $(DESTDIR)$(PREFIX)
#   make check           all tests (unit + integration in the VM); slow
#   make check-unit      fast tests, no kernel needed
#   make demo            build the test kernel, a demo livepatch, load it
#   make bench           measure each phase (writes bench-results.md)
#   make check-sanitize  the tools' unit suites with ASan+UBSan builds
#   make fuzz            the long fuzz run (FUZZ_TIME seconds, FUZZ_DIR,
#                        FUZZ_KERNEL=K to seed from a real kbuild-patch run)
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/kbuild-patch
SHAREDIR = $(PREFIX)/share/kbuild-patch
MANDIR = $(PREFIX)/share/man/man1
MAN7DIR = $(PREFIX)/share/man/man7
MAN8DIR = $(PREFIX)/share/man/man8
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions
# The boot unit (systemd also reads /usr/local/lib/systemd/system); the
# installed copy runs $(BINDIR)/kbuild-patch-ctl. kbuild-patch-pkg
# --runtime packages it with /usr/sbin/kbuild-patch-ctl.
UNITDIR = $(PREFIX)/lib/systemd/system

SCRIPTS = scripts/kbuild-patch scripts/kbuild-patch-vm scripts/kbuild-patch-ci \
	scripts/kbuild-patch-wait scripts/kbuild-patch-pkg scripts/kbuild-patch-ctl
COMPLETIONS = $(wildcard contrib/bash-completion/*)
TOOLS = create-diff-object/create-diff-object create-diff-object/klp-convert \
	create-diff-object/klp-loadcheck

all: tools

tools:
	$(MAKE) -C create-diff-object

install: tools
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(SHAREDIR)/kmod/probe $(DESTDIR)$(SHAREDIR)/distro \
		$(DESTDIR)$(SHAREDIR)/lib \
		$(DESTDIR)$(MANDIR) $(DESTDIR)$(MAN7DIR) $(DESTDIR)$(MAN8DIR) \
		$(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 755 $(TOOLS) $(DESTDIR)$(LIBEXECDIR)
	install -m 644 kmod/livepatch-main.c kmod/Kbuild.in \
		kmod/kbuild-patch.h kmod/kpatch-macros.h kmod/no-resolve-btfids.mk \
		$(DESTDIR)$(SHAREDIR)/kmod
	install -m 644 kmod/probe/special-sizes.c kmod/probe/vermagic.c \
		$(DESTDIR)$(SHAREDIR)/kmod/probe
	install -m 644 scripts/distro/*.bash $(DESTDIR)$(SHAREDIR)/distro
	install -m 644 scripts/lib/*.bash scripts/lib/*.awk $(DESTDIR)$(SHAREDIR)/lib
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)
	install -m 644 man/*.7 $(DESTDIR)$(MAN7DIR)
	install -m 644 man/*.8 $(DESTDIR)$(MAN8DIR)
	install -m 644 $(COMPLETIONS) $(DESTDIR)$(COMPLETIONDIR)
	sed 's|^ExecStart=/usr/sbin/kbuild-patch-ctl |ExecStart=$(BINDIR)/kbuild-patch-ctl |' \
		contrib/systemd/kbuild-patch.service >$(DESTDIR)$(UNITDIR)/kbuild-patch.service
	chmod 644 $(DESTDIR)$(UNITDIR)/kbuild-patch.service

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(SCRIPTS)))
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SHAREDIR)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MAN7DIR)/,$(notdir $(wildcard man/*.7)))
	rm -f $(addprefix $(DESTDIR)$(MAN8DIR)/,$(notdir $(wildcard man/*.8)))
	rm -f $(addprefix $(DESTDIR)$(COMPLETIONDIR)/,$(notdir $(COMPLETIONS)))
	rm -f $(DESTDIR)$(UNITDIR)/kbuild-patch.service

check: tools
	test/run-tests --jobs 2 --tier quick --prebuild-kernels test/unit test/integration
	$(MAKE) check-sanitize check-gawk

# The slow tier: the suites tagged "# test-tier: slow" (the kills at
# every fault point, two Debian uploads at once, valgrind), left out of
# check (CI) to keep it within its time budget.
check-slow: tools
	test/run-tests --jobs 2 --tier slow --prebuild-kernels test/integration

check-unit: tools
	test/run-tests test/unit

# The real-fix corpus (test/real/run-real): one-file fixes from two pairs
# of Debian uploads, each built for the older upload's stock kernel and
# loaded in it. Not part of check (it fetches four source uploads and
# boots a stock kernel per fix); its last table is doc/real-fixes.md.
check-real: tools
	test/real/run-real

demo: tools
	scripts/kbuild-patch-demo

bench: tools
	scripts/kbuild-patch-bench bench-results.md

clean:
	$(MAKE) -C create-diff-object clean

# Fuzzing and sanitizers (test/fuzz/). check-sanitize builds the tools
# with clang -fsanitize=address,undefined into $(SAN_DIR) and runs the
# unit suites that exercise them with those binaries (KBP_TOOLS_DIR). A
# sanitizer report aborts the tool (exit 134), never exit 1.
SAN_DIR ?= $(CURDIR)/out/sanitize
SAN_SUITES = test/unit/create-diff-object.bats test/unit/klp-convert.bats \
	test/unit/malformed.bats test/unit/loadcheck.bats
FUZZ_DIR ?= $(CURDIR)/out/fuzz-run
FUZZ_TIME ?= 3600

# The sanitizer re-run runs with gawk as awk (see check-gawk): the suites
# it repeats are the ones whose helpers parse readelf with awk the most.
check-sanitize: gawk-bin
	$(MAKE) -C test/fuzz sanitize O=$(SAN_DIR)
	PATH=$(GAWK_BIN):$$PATH \
	KBP_TOOLS_DIR=$(SAN_DIR)/tools \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
		test/run-tests --jobs 2 --label "sanitizer re-run" $(SAN_SUITES)

# The gawk leg. Debian's awk is mawk, and make check runs under it; many
# users' awk is gawk, which reads regexes and -v values differently. The
# unit suites not repeated by the sanitizer re-run (which runs under gawk
# too) run again here with gawk as awk; not the shellcheck and fuzz
# smoke suites, which run no awk. install-deps installs gawk without
# changing which awk the system uses.
GAWK_BIN ?= $(CURDIR)/out/gawk-bin
GAWK_SUITES = $(filter-out $(SAN_SUITES) test/unit/fuzz-smoke.bats test/unit/lint.bats,\
	$(wildcard test/unit/*.bats))

gawk-bin:
	@command -v gawk >/dev/null || { echo "make: gawk is not installed (scripts/install-deps installs it)" >&2; exit 1; }
	rm -rf $(GAWK_BIN) && mkdir -p $(GAWK_BIN) && ln -s "$$(command -v gawk)" $(GAWK_BIN)/awk

check-gawk: tools gawk-bin
	PATH=$(GAWK_BIN):$$PATH test/run-tests --jobs 2 --label "gawk leg" $(GAWK_SUITES)

fuzz:
	nice -n 19 test/fuzz/run-fuzz --time $(FUZZ_TIME) \
		$(if $(FUZZ_KERNEL),--kernel $(FUZZ_KERNEL)) $(FUZZ_DIR)

.PHONY: all tools install uninstall check check-slow check-unit demo bench clean \
	check-sanitize check-gawk gawk-bin check-real fuzz
