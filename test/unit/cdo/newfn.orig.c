// SPDX-License-Identifier: GPL-2.0
/* newfn: the patch adds a helper and calls it from a changed function. */
extern int printk(const char *fmt, ...);

struct newfn_req {
	int len;
	int max;
	char *buf;
};

int newfn_submit(struct newfn_req *req)
{
	if (req->len < 0)
		return -22;
	req->buf[0] = 1;
	return req->len;
}

int newfn_other(struct newfn_req *req)
{
	return req->max - req->len;
}
