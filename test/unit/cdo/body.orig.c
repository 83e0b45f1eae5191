// SPDX-License-Identifier: GPL-2.0
/* body: one function's body changes; its siblings stay the same. */
extern int printk(const char *fmt, ...);

struct body_dev {
	int id;
	unsigned long flags;
	int refcount;
};

int body_same_a(struct body_dev *dev)
{
	dev->refcount++;
	return dev->refcount;
}

int body_changed(struct body_dev *dev, int mask)
{
	if (dev->flags & mask)
		return -22;
	dev->flags |= mask;
	return 0;
}

int body_same_b(struct body_dev *dev)
{
	if (--dev->refcount == 0)
		return printk("body: device %d released\n", dev->id);
	return dev->refcount;
}
