/* import-ns.c - a .modinfo entry as MODULE_IMPORT_NS(KBP_TEST_NS) writes it. */
static const char modinfo_import_ns[] __attribute__((section(".modinfo"), used)) =
	"import_ns=KBP_TEST_NS";
