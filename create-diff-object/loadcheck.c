// SPDX-License-Identifier: GPL-2.0
/*
 * loadcheck.c - the build-time load check of kbuild-patch. After the
 * post-link step (klp-convert) and before the module goes to the output
 * directory, every symbol that the kernel will resolve for it must
 * resolve exactly once in the target, the way the kernel resolves it:
 *
 *   - each symbol of a klp relocation, .klp.sym.OBJ.NAME,POS, and each
 *     function of the klp_func tables (OBJ NAME POS), as
 *     klp_find_object_symbol() does: among the same-named symbols of
 *     vmlinux (its symbol table or a kallsyms dump) or of module OBJ's own
 *     symbol table, POS 0 means exactly one, else the POS-th exists;
 *   - each other undefined symbol, as the module loader does
 *     (simplify_symbols(), check_version(), verify_namespace_is_imported()):
 *     exported by vmlinux or a module, with a matching CRC in the module's
 *     __versions under MODVERSIONS, and its namespace imported; and no
 *     common symbol, which the loader refuses.
 *
 * Nothing a user feeds kbuild-patch can make a symbol that the tools
 * wrote fail here: a failure is reported as an internal error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loadcheck.h"

#include "klp-format.h"

/* struct modversion_info: unsigned long crc; char name[MODULE_NAME_LEN] */
#define MODVERSION_SIZE		64
#define MODVERSION_NAME_LEN	(MODVERSION_SIZE - 8)

/* What the module loader finds in the module: its CRCs and imports. */
struct lc_module_info {
	struct strmap versions;		/* name -> its __versions entry */
	const struct section *vers;	/* __versions, or NULL */
	const struct section *modinfo;
};

static struct kbp_symbols *target_of(const struct kbp_loadcheck *lc,
				     const char *obj)
{
	size_t i;

	if (!strcmp(obj, "vmlinux"))
		return lc->vmlinux;
	for (i = 0; i < lc->nr_mods; i++)
		if (!strcmp(lc->mods[i].name, obj))
			return lc->mods[i].syms;
	return NULL;
}

/*
 * Whether NAME at position POS resolves in object OBJ (symbols KS) as
 * klp_find_object_symbol() resolves it. WHAT names the reference.
 */
static bool resolves(struct kbp_loadcheck *lc, const char *what,
		     const char *obj, const struct kbp_symbols *ks,
		     const char *name, unsigned long pos)
{
	struct strmap_entry *it = NULL;
	size_t count = 0;

	while (strmap_next(&ks->by_name, name, &it))
		count++;
	if (!count) {
		INTERNAL("%s: %s: %s has no symbol %s (%s); the kernel would refuse the module: \"symbol '%s' not found in symbol table\"",
			 lc->display, what, obj, name, ks->path, name);
	} else if (!pos && count > 1) {
		INTERNAL("%s: %s: %s has %zu symbols %s (%s), and sympos 0 stands for a unique one; the kernel would refuse the module: \"unresolvable ambiguity for symbol '%s' in object '%s'\"",
			 lc->display, what, obj, count, name, ks->path, name,
			 obj);
	} else if (pos > count) {
		INTERNAL("%s: %s: sympos %lu, but %s has only %zu symbol(s) %s (%s); the kernel would refuse the module: \"symbol position %lu for symbol '%s' in object '%s' not found\"",
			 lc->display, what, pos, obj, count, name, ks->path,
			 pos, name, obj);
	} else {
		return true;
	}
	lc->nr_failed++;
	return false;
}

/*
 * Splits ".klp.sym.OBJ.NAME,POS" as the kernel's sscanf() does, into
 * obj and name (copies, freed by the caller) and pos.
 */
static int parse_klp_name(const char *full, char **obj, char **name,
			  unsigned long *pos)
{
	const char *o = full + strlen(KLP_SYM_PREFIX), *n, *p;
	char *end;

	n = strchr(o, '.');
	p = n ? strchr(n + 1, ',') : NULL;
	if (!n || n == o || !p || p == n + 1 || p[1] < '0' || p[1] > '9')
		return -1;
	*pos = strtoul(p + 1, &end, 10);
	if (*end)
		return -1;
	*obj = strndup(o, n - o);
	*name = strndup(n + 1, p - n - 1);
	if (!*obj || !*name) {
		free(*obj);
		free(*name);
		ERROR("out of memory");
		return -2;
	}
	return 0;
}

/* A klp relocation's symbol, of section rsec. */
static int check_klp_symbol(struct kbp_loadcheck *lc,
			    const struct section *rsec,
			    const struct symbol *sym)
{
	struct kbp_symbols *ks;
	char *obj, *name, *what;
	unsigned long pos;
	int ret;

	lc->nr_klp++;
	if (strncmp(sym->name, KLP_SYM_PREFIX, strlen(KLP_SYM_PREFIX)) ||
	    sym->sym.st_shndx != SHN_LIVEPATCH) {
		INTERNAL("%s: %s (%s): a klp relocation against a symbol that is not a SHN_LIVEPATCH .klp.sym.OBJ.NAME,POS; the kernel would refuse the module",
			 lc->display, sym->name, rsec->name);
		lc->nr_failed++;
		return 0;
	}
	ret = parse_klp_name(sym->name, &obj, &name, &pos);
	if (ret == -2)
		return -1;
	if (ret) {
		INTERNAL("%s: %s (%s): not of the form .klp.sym.OBJ.NAME,POS; the kernel would refuse the module",
			 lc->display, sym->name, rsec->name);
		lc->nr_failed++;
		return 0;
	}
	ks = target_of(lc, obj);
	if (!ks) {
		ERROR("%s: %s (%s): no symbols of module %s given; pass --module %s=FILE.ko",
		      lc->display, sym->name, rsec->name, obj, obj);
		ret = -1;
	} else if (asprintf(&what, "%s (in %s)", sym->name, rsec->name) < 0) {
		ERROR("out of memory");
		ret = -1;
	} else {
		resolves(lc, what, obj, ks, name, pos);
		free(what);
	}
	free(obj);
	free(name);
	return ret;
}

static int check_klp_relocations(struct kbp_loadcheck *lc)
{
	const struct kbp_elf *ko = lc->ko;
	bool *seen = calloc(ko->nr_syms + 1, sizeof(*seen));
	size_t i, j;
	int ret = 0;

	if (!seen) {
		ERROR("out of memory");
		return -1;
	}
	for (i = 1; i < ko->nr_secs && !ret; i++) {
		const struct section *rsec = &ko->secs[i];

		if (!is_rela_section(rsec) ||
		    !(rsec->sh.sh_flags & SHF_RELA_LIVEPATCH))
			continue;
		for (j = 0; j < rsec->nr_relas && !ret; j++) {
			const struct symbol *sym = rsec->relas[j].sym;

			if (seen[sym->index])
				continue;
			seen[sym->index] = true;
			ret = check_klp_symbol(lc, rsec, sym);
		}
	}
	free(seen);
	return ret;
}

static int module_info_load(struct lc_module_info *mi,
			    const struct kbp_elf *ko)
{
	size_t i;

	mi->vers = kbp_find_section(ko, "__versions");
	mi->modinfo = kbp_find_section(ko, ".modinfo");
	if (strmap_init(&mi->versions, 64))
		return -1;
	if (!mi->vers || !mi->vers->data)
		return 0;
	for (i = 0; i + MODVERSION_SIZE <= mi->vers->size;
	     i += MODVERSION_SIZE) {
		const char *name = (const char *)mi->vers->data + i + 8;

		if (!memchr(name, 0, MODVERSION_NAME_LEN))
			continue;
		if (strmap_add(&mi->versions, name,
			       (void *)(mi->vers->data + i)))
			return -1;
	}
	return 0;
}

/* Whether .modinfo holds "import_ns=NS". */
static bool imports_namespace(const struct lc_module_info *mi,
			      const char *ns)
{
	const char *p, *end;
	size_t len = strlen(ns);

	if (!mi->modinfo || !mi->modinfo->data)
		return false;
	p = (const char *)mi->modinfo->data;
	end = p + mi->modinfo->size;
	while (p < end) {
		const char *nul = memchr(p, 0, end - p);
		size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);

		if (n == len + 10 && !memcmp(p, "import_ns=", 10) &&
		    !memcmp(p + 10, ns, len))
			return true;
		p += n + 1;
	}
	return false;
}

/*
 * With MODVERSIONS (a non-zero CRC in Module.symvers), check_version()
 * wants name in __versions with the same CRC.
 */
static void check_crc(struct kbp_loadcheck *lc,
		      const struct lc_module_info *mi, const char *name)
{
	const char *crc = lc->symvers ? strmap_get(&lc->symvers->crcs, name) :
					NULL;
	const unsigned char *v;
	unsigned long want, have = 0;
	char *end;
	int i;

	if (!crc)
		return;
	want = strtoul(crc, &end, 16);
	if (*end || !want)
		return;
	v = strmap_get(&mi->versions, name);
	if (v)
		for (i = 7; i >= 0; i--)
			have = have << 8 | v[i];
	if (!mi->vers) {
		INTERNAL("%s: %s: the kernel has MODVERSIONS (CRC %s in Module.symvers) but the module has no __versions section; the kernel would refuse the module",
			 lc->display, name, crc);
	} else if (!v) {
		INTERNAL("%s: %s: no CRC for it in __versions (Module.symvers has %s); the kernel would refuse the module: \"no symbol version for %s\"",
			 lc->display, name, crc, name);
	} else if (have != want) {
		INTERNAL("%s: %s: __versions has CRC 0x%08lx, Module.symvers %s; the kernel would refuse the module: \"disagrees about version of symbol %s\"",
			 lc->display, name, have, crc, name);
	} else {
		return;
	}
	lc->nr_failed++;
}

/* Whether the patch has klp relocations into module exporter. */
static bool targets_module(const struct kbp_loadcheck *lc,
			   const char *exporter)
{
	size_t i, plen = strlen(KLP_RELA_PREFIX);
	char obj[KLP_OBJNAME_MAX + 1];

	for (i = 1; i < lc->ko->nr_secs; i++) {
		const char *name = lc->ko->secs[i].name, *dot;

		if (strncmp(name, KLP_RELA_PREFIX, plen))
			continue;
		dot = strchr(name + plen, '.');
		if (!dot || (size_t)(dot - name - plen) > KLP_OBJNAME_MAX)
			continue;
		memcpy(obj, name + plen, dot - name - plen);
		obj[dot - name - plen] = 0;
		if (kbp_is_module(exporter, obj))
			return true;
	}
	return false;
}

/* A plain undefined symbol, which the module loader resolves. */
static void check_undefined(struct kbp_loadcheck *lc,
			    const struct lc_module_info *mi,
			    const struct symbol *sym)
{
	struct strmap_entry *it = NULL;
	const char *exporter, *ns = NULL, *v, *first = NULL;
	size_t n = 0;

	lc->nr_undef++;
	if (!strncmp(sym->name, KLP_SYM_PREFIX, strlen(KLP_SYM_PREFIX))) {
		INTERNAL("%s: %s: a livepatch symbol left undefined (not SHN_LIVEPATCH) after post-link; the module loader would look for it as an export%s",
			 lc->display, sym->name, sym->bind == STB_WEAK ?
			 " and leave it NULL" : " and refuse the module");
		lc->nr_failed++;
		return;
	}
	exporter = kbp_exported_by(lc->symvers, lc->vmlinux, sym->name);
	if (!exporter) {
		INTERNAL("%s: %s: undefined, and neither vmlinux nor a module exports it (%s); %s",
			 lc->display, sym->name,
			 lc->symvers ? "Module.symvers" : lc->vmlinux->path,
			 sym->bind == STB_WEAK ?
			 "the kernel would load the module with it NULL (weak)" :
			 "the kernel would refuse the module: \"Unknown symbol\"");
		lc->nr_failed++;
		return;
	}
	/*
	 * The patch must load whether or not the modules it patches are
	 * loaded: an export of one of them can only be reached through a
	 * klp relocation.
	 */
	if (strcmp(exporter, "vmlinux") && targets_module(lc, exporter)) {
		INTERNAL("%s: %s: a plain reference to an export of %s, a module this patch patches; the kernel would refuse the patch while that module isn't loaded: \"Unknown symbol %s\"",
			 lc->display, sym->name, exporter, sym->name);
		lc->nr_failed++;
		return;
	}
	check_crc(lc, mi, sym->name);
	/* Module.symvers: the namespace (if any) comes before the module. */
	while (lc->symvers &&
	       (v = strmap_next(&lc->symvers->by_name, sym->name, &it))) {
		if (!n++)
			first = v;
	}
	if (n > 1)
		ns = first;
	if (ns && !imports_namespace(mi, ns)) {
		INTERNAL("%s: %s: exported in namespace %s, which the module doesn't import (no MODULE_IMPORT_NS(%s)); the kernel would refuse the module: \"module uses symbol (%s) from namespace %s, but does not import it\"",
			 lc->display, sym->name, ns, ns, sym->name, ns);
		lc->nr_failed++;
	}
}

static int check_undefined_symbols(struct kbp_loadcheck *lc)
{
	struct lc_module_info mi = { 0 };
	size_t i;
	int ret = module_info_load(&mi, lc->ko);

	for (i = 1; !ret && i < lc->ko->nr_syms; i++) {
		const struct symbol *sym = &lc->ko->syms[i];

		if (sym->sym.st_shndx == SHN_COMMON) {
			INTERNAL("%s: %s: a common symbol; the kernel would refuse the module: \"please compile with -fno-common\"",
				 lc->display, sym->name);
			lc->nr_failed++;
			continue;
		}
		/* The loader ignores _GLOBAL_OFFSET_TABLE_ (old binutils). */
		if (sym->sym.st_shndx != SHN_UNDEF || !*sym->name ||
		    !strcmp(sym->name, "_GLOBAL_OFFSET_TABLE_"))
			continue;
		check_undefined(lc, &mi, sym);
	}
	/* check_modstruct_version(): every module carries this CRC. */
	if (!ret && mi.vers)
		check_crc(lc, &mi, "module_layout");
	strmap_free(&mi.versions);
	return ret;
}

int kbp_loadcheck_module(struct kbp_loadcheck *lc)
{
	if (check_klp_relocations(lc))
		return -1;
	return check_undefined_symbols(lc);
}

int kbp_loadcheck_funcs(struct kbp_loadcheck *lc, char *buf,
			const char *file)
{
	char *line, *save = NULL, *obj, *name, *pos, *end, *what;
	struct kbp_symbols *ks;
	unsigned long sympos;
	size_t nr = 0;

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		nr++;
		obj = line;
		name = strchr(obj, '\t');
		pos = name ? strchr(name + 1, '\t') : NULL;
		if (!pos) {
			ERROR("%s:%zu: not \"OBJNAME<TAB>NAME<TAB>SYMPOS\"",
			      file, nr);
			return -1;
		}
		*name++ = 0;
		*pos++ = 0;
		sympos = strtoul(pos, &end, 10);
		if (!*obj || !*name || *end || end == pos) {
			ERROR("%s:%zu: not \"OBJNAME<TAB>NAME<TAB>SYMPOS\"",
			      file, nr);
			return -1;
		}
		ks = target_of(lc, obj);
		if (!ks) {
			ERROR("%s:%zu: %s: no symbols of module %s given; pass --module %s=FILE.ko",
			      file, nr, name, obj, obj);
			return -1;
		}
		if (asprintf(&what, "patched function %s,%lu of %s", name,
			     sympos, obj) < 0) {
			ERROR("out of memory");
			return -1;
		}
		lc->nr_funcs++;
		resolves(lc, what, obj, ks, name, sympos);
		free(what);
	}
	return 0;
}
