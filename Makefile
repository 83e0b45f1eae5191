# kbuild-patch: top-level build, install and test entry points.
#
#   make                 build the C tools (create-diff-object, klp-convert)
#   make install         install under $(DESTDIR)$(PREFIX)
#   make check           all tests (unit + integration in the VM); slow
#   make check-unit      fast tests, no kernel needed
#   make demo            build the test kernel, a demo livepatch, load it
#   make bench           measure each phase (writes bench-results.md)
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/kbuild-patch
SHAREDIR = $(PREFIX)/share/kbuild-patch
MANDIR = $(PREFIX)/share/man/man1
MAN7DIR = $(PREFIX)/share/man/man7
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions

SCRIPTS = scripts/kbuild-patch scripts/kbuild-patch-vm scripts/kbuild-patch-wait
TOOLS = create-diff-object/create-diff-object create-diff-object/klp-convert

all: tools

tools:
	$(MAKE) -C create-diff-object

install: tools
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(SHAREDIR)/kmod/probe $(DESTDIR)$(SHAREDIR)/distro \
		$(DESTDIR)$(MANDIR) $(DESTDIR)$(MAN7DIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 755 $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 755 $(TOOLS) $(DESTDIR)$(LIBEXECDIR)
	install -m 644 kmod/livepatch-main.c kmod/Kbuild.in \
		kmod/kbuild-patch.h kmod/kpatch-macros.h \
		$(DESTDIR)$(SHAREDIR)/kmod
	install -m 644 kmod/probe/special-sizes.c $(DESTDIR)$(SHAREDIR)/kmod/probe
	install -m 644 scripts/distro/*.bash $(DESTDIR)$(SHAREDIR)/distro
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)
	install -m 644 man/*.7 $(DESTDIR)$(MAN7DIR)
	install -m 644 contrib/bash-completion/kbuild-patch $(DESTDIR)$(COMPLETIONDIR)/kbuild-patch

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(SCRIPTS)))
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SHAREDIR)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MAN7DIR)/,$(notdir $(wildcard man/*.7)))
	rm -f $(DESTDIR)$(COMPLETIONDIR)/kbuild-patch

check: tools
	test/run-tests test/unit test/integration

check-unit: tools
	test/run-tests test/unit

demo: tools
	scripts/kbuild-patch-demo

bench: tools
	scripts/kbuild-patch-bench bench-results.md

clean:
	$(MAKE) -C create-diff-object clean

.PHONY: all tools install uninstall check check-unit demo bench clean
