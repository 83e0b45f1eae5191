// SPDX-License-Identifier: GPL-2.0
/* newfn: the patch adds a helper and calls it from a changed function. */
extern int printk(const char *fmt, ...);

struct newfn_req {
	int len;
	int max;
	char *buf;
};

static __attribute__((__noinline__)) int newfn_check(struct newfn_req *req)
{
	if (req->len > req->max) {
		printk("newfn: length %d over %d\n", req->len, req->max);
		req->len = req->max;
		return -75;
	}
	return 0;
}

int newfn_submit(struct newfn_req *req)
{
	int err;

	if (req->len < 0)
		return -22;
	err = newfn_check(req);
	if (err)
		return err;
	req->buf[0] = 1;
	return req->len;
}

int newfn_other(struct newfn_req *req)
{
	return req->max - req->len;
}
