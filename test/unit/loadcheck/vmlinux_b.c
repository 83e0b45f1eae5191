/*
 * vmlinux_b.c - the other file of the fake target kernel of
 * loadcheck.bats: the second static function c_start, so that c_start has
 * sympos 1 and 2 and no unique one.
 */
static int __attribute__((noinline, used)) c_start(void)
{
	return 2;
}

int other_user(void)
{
	return c_start();
}
