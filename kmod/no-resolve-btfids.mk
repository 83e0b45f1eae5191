# Read by every make that kbuild-patch runs (through MAKEFILES): the
# kernel's "prepare" builds tools/bpf/resolve_btfids (with libbpf, about
# 25 CPU-seconds) whenever CONFIG_DEBUG_INFO_BTF is set, but kbuild only
# runs it on a vmlinux, or on a module beside one, to generate BTF. No
# vmlinux is ever linked in kbuild-patch's trees, so it would never run.
# An explicit rule wins over the kernel's "tools/%" pattern rule; make
# never takes its default goal from a MAKEFILES file.
tools/bpf/resolve_btfids: ; @:
