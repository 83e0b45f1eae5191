/* A function whose code refers to a static variable and a string
 * through PC-relative relocations against their sections. */
extern int printk(const char *fmt, ...);

static int calls;

int show_strings(int v)
{
	calls += v + 1;
	return printk("value %d\n", calls);
}
