/*
 * module.c - the parts of a livepatch .ko that klp-convert must leave alone:
 * modinfo, the module struct stand-in, __versions, and init code that only
 * makes normal calls.
 */
extern int klp_enable_patch(void *patch);

static const char modinfo_livepatch[] __attribute__((section(".modinfo"), used)) =
	"livepatch=Y";
static const char modinfo_license[] __attribute__((section(".modinfo"), used)) =
	"license=GPL";

/* a .bss.* (SHT_NOBITS) section with a size */
int patch_state[4];

struct fake_module {
	char name[56];
	int (*init)(void);
};

static int patch_init(void)
{
	return klp_enable_patch(0);
}

struct fake_module __this_module __attribute__((section(".gnu.linkonce.this_module"))) = {
	.name = "livepatch-test",
	.init = patch_init,
};

static const struct {
	unsigned long crc;
	char name[56];
} versions[] __attribute__((section("__versions"), used, aligned(8))) = {
	{ 0x12345678, "klp_enable_patch" },
};
