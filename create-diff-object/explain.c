// SPDX-License-Identifier: GPL-2.0
/*
 * explain.c - with --explain, tells for each changed function where its
 * original and patched versions first differ: the first differing code
 * byte or the first relocation whose place, type or target differs,
 * whichever comes first. Offsets are from the function's symbol. It
 * shows users why a function they never touched is in the patch (an
 * inlined callee changed, a string moved, a constant changed).
 */
#include <stdio.h>
#include <string.h>

#include "diff.h"

/* The part of a function's section that is compared (see changes.c). */
struct span {
	const struct symbol *sym;
	unsigned long start;	/* section offset where the span begins */
	unsigned long size;
	struct rela *relas;
	size_t nr_relas;
};

static void span_init(struct span *s, const struct symbol *sym, bool lone)
{
	s->sym = sym;
	s->start = lone ? 0 : sym->sym.st_value;
	s->size = lone ? sym->sec->size : sym->sym.st_size;
	s->relas = kbp_relas_in(sym->sec, s->start, s->start + s->size,
				&s->nr_relas);
}

/* "+0x1c" (or "-0x4"): span offset off from the function's symbol. */
static const char *func_offset(const struct span *s, unsigned long off,
			       char *buf, size_t len)
{
	long d = (long)(s->start + off) - (long)s->sym->sym.st_value;

	snprintf(buf, len, "%s0x%lx", d < 0 ? "-" : "+",
		 (unsigned long)(d < 0 ? -d : d));
	return buf;
}

static const char *rela_type_name(unsigned int type, char *buf, size_t len)
{
	static const struct { unsigned int type; const char *name; } names[] = {
		{ R_X86_64_64, "R_X86_64_64" },
		{ R_X86_64_PC32, "R_X86_64_PC32" },
		{ R_X86_64_PLT32, "R_X86_64_PLT32" },
		{ R_X86_64_32, "R_X86_64_32" },
		{ R_X86_64_32S, "R_X86_64_32S" },
		{ R_X86_64_PC64, "R_X86_64_PC64" },
		{ R_X86_64_GOTPCREL, "R_X86_64_GOTPCREL" },
		{ R_X86_64_GOTPCRELX, "R_X86_64_GOTPCRELX" },
		{ R_X86_64_REX_GOTPCRELX, "R_X86_64_REX_GOTPCRELX" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, len, "type %u", type);
	return buf;
}

/*
 * Up to len - 1 characters of the string at s (at most max bytes), with
 * newlines, tabs, quotes and backslashes escaped and other control
 * characters shown as '?', so that one explanation stays one line.
 */
static void quote(char *buf, size_t len, const char *s, size_t max)
{
	size_t i, o = 0;

	for (i = 0; i < max && s[i] && o + 3 < len; i++) {
		char c = s[i], e = 0;

		switch (c) {
		case '\n': e = 'n'; break;
		case '\t': e = 't'; break;
		case '"': e = '"'; break;
		case '\\': e = '\\'; break;
		}
		if (e) {
			buf[o++] = '\\';
			buf[o++] = e;
		} else {
			buf[o++] = (unsigned char)c < ' ' ? '?' : c;
		}
	}
	buf[o] = '\0';
}

/* "TYPE target+off" or "TYPE "string"" for one relocation. */
static void describe_rela(const struct rela *rela, char *buf, size_t len)
{
	const struct symbol *cover;
	char tbuf[32];
	const char *type = rela_type_name(rela->type, tbuf, sizeof(tbuf));
	long off;

	if (rela->sym->type == STT_SECTION && rela->sym->sec &&
	    is_string_section(rela->sym->sec)) {
		const struct section *sec = rela->sym->sec;
		long t = rela_target_offset(rela);

		if (sec->data && t >= 0 && (size_t)t < sec->size) {
			char text[48];

			quote(text, sizeof(text), (const char *)sec->data + t,
			      sec->size - t);
			snprintf(buf, len, "%s \"%s\"", type, text);
			return;
		}
	}
	cover = rela_cover(rela, &off);
	snprintf(buf, len, "%s %s%+ld", type, cover->name, off);
}

static void hex_bytes(const struct span *s, unsigned long off, char *buf,
		      size_t len)
{
	const unsigned char *data = s->sym->sec->data;
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < 8 && off + i < s->size && used + 4 < len; i++)
		used += snprintf(buf + used, len - used, "%s%02x",
				 i ? " " : "", data[s->start + off + i]);
	if (!i)
		snprintf(buf, len, "(end)");
}

void explain_change(const struct diff_ctx *ctx, const struct symbol *p,
		    const struct symbol *o)
{
	struct span sp, so;
	bool lone = p->sec->nr_syms == 1 && o->sec->nr_syms == 1;
	unsigned long n, byte = (unsigned long)-1, rel = (unsigned long)-1;
	size_t i, nr;
	char a[160], b[160], at[32];

	span_init(&sp, p, lone);
	span_init(&so, o, lone);
	n = sp.size < so.size ? sp.size : so.size;
	if (p->sec->data && o->sec->data)
		for (byte = 0; byte < n; byte++)
			if (p->sec->data[sp.start + byte] !=
			    o->sec->data[so.start + byte])
				break;
	if (byte == n && sp.size == so.size)
		byte = (unsigned long)-1;

	nr = sp.nr_relas < so.nr_relas ? sp.nr_relas : so.nr_relas;
	for (i = 0; i < nr; i++) {
		const struct rela *rp = &sp.relas[i], *ro = &so.relas[i];
		unsigned long op = rp->offset - sp.start;
		unsigned long oo = ro->offset - so.start;

		if (op != oo || !same_target(rp, ro)) {
			rel = op < oo ? op : oo;
			break;
		}
	}
	if (i == nr && sp.nr_relas != so.nr_relas)
		rel = sp.nr_relas > nr ? sp.relas[nr].offset - sp.start :
					 so.relas[nr].offset - so.start;

	if (byte == (unsigned long)-1 && rel == (unsigned long)-1) {
		printf("%s: explain: %s: same code and relocations; its metadata changed\n",
		       ctx->display, p->name);
		return;
	}
	if (byte <= rel) {
		if (byte >= n) {
			printf("%s: explain: %s: first difference at %s%s: size %lu -> %lu bytes, the code before is the same\n",
			       ctx->display, p->name, p->name,
			       func_offset(&sp, byte, at, sizeof(at)),
			       (unsigned long)o->sym.st_size,
			       (unsigned long)p->sym.st_size);
			return;
		}
		hex_bytes(&so, byte, a, sizeof(a));
		hex_bytes(&sp, byte, b, sizeof(b));
		printf("%s: explain: %s: first difference at %s%s (%s+0x%lx): code: orig %s | patched %s\n",
		       ctx->display, p->name, p->name,
		       func_offset(&sp, byte, at, sizeof(at)), p->sec->name,
		       sp.start + byte, a, b);
		return;
	}
	if (i < nr) {
		describe_rela(&so.relas[i], a, sizeof(a));
		describe_rela(&sp.relas[i], b, sizeof(b));
	} else {
		snprintf(a, sizeof(a), "%s", so.nr_relas > nr ? "" : "(none)");
		snprintf(b, sizeof(b), "%s", sp.nr_relas > nr ? "" : "(none)");
		if (so.nr_relas > nr)
			describe_rela(&so.relas[nr], a, sizeof(a));
		else
			describe_rela(&sp.relas[nr], b, sizeof(b));
	}
	printf("%s: explain: %s: first difference at %s%s (%s+0x%lx): relocation: orig %s | patched %s\n",
	       ctx->display, p->name, p->name,
	       func_offset(&sp, rel, at, sizeof(at)), p->sec->name,
	       sp.start + rel, a, b);
}

void explain_changes(const struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		const struct symbol *sym = &ctx->patched->syms[i];

		if (sym->type == STT_FUNC && sym->status == ST_CHANGED)
			explain_change(ctx, sym, sym->twin);
	}
}
