// SPDX-License-Identifier: GPL-2.0
/*
 * elf-writer.c - writes the assembled diff object (struct writer) as an ELF
 * relocatable file with libelf: sections, .rela sections, the symbol
 * table (locals first) and the string tables. It writes to a file that
 * output.c opened (atomic-file.h); path names it in messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "klp-format.h"
#include "log.h"
#include "writer.h"

static int buf_add(struct buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *d;

		while (cap < b->len + len)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			ERROR("out of memory");
			return -1;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

static long buf_add_str(struct buf *b, const char *s)
{
	size_t off = b->len;

	if (buf_add(b, s, strlen(s) + 1))
		return -1;
	return off;
}

static int elf_fail(const char *path, const char *what)
{
	ERROR("%s: %s: %s", path, what, elf_errmsg(-1));
	return -1;
}

static int new_section(Elf *elf, const char *path, size_t name, GElf_Shdr *sh,
		       void *data, size_t size, Elf_Type type)
{
	Elf_Scn *scn = elf_newscn(elf);
	Elf_Data *d;

	if (!scn)
		return elf_fail(path, "elf_newscn");
	d = elf_newdata(scn);
	if (!d)
		return elf_fail(path, "elf_newdata");
	d->d_buf = data;
	d->d_size = size;
	d->d_type = type;
	d->d_align = sh->sh_addralign ? sh->sh_addralign : 1;
	sh->sh_name = name;
	sh->sh_size = size;
	if (!gelf_update_shdr(scn, sh))
		return elf_fail(path, "gelf_update_shdr");
	return 0;
}

int write_elf(struct writer *w, int fd, const char *path)
{
	struct kbp_elf *p = w->ctx->patched;
	struct buf shstr = { 0 }, str = { 0 };
	Elf64_Rela **relbufs = NULL;
	Elf64_Sym *symtab = NULL;
	size_t i, j, nr_rela = 0, symtab_idx, first_global = 0, idx;
	GElf_Ehdr eh;
	Elf *elf = NULL;
	int ret = -1;

	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!elf || !gelf_newehdr(elf, ELFCLASS64) || !gelf_getehdr(elf, &eh)) {
		elf_fail(path, "elf_begin");
		goto out;
	}
	eh.e_ident[EI_DATA] = p->ehdr.e_ident[EI_DATA];
	eh.e_ident[EI_OSABI] = p->ehdr.e_ident[EI_OSABI];
	eh.e_type = ET_REL;
	eh.e_machine = p->ehdr.e_machine;
	eh.e_version = EV_CURRENT;
	eh.e_flags = p->ehdr.e_flags;

	/* Final symbol order: null, locals, then globals. */
	idx = 1;
	for (i = 0; i < w->nr_syms; i++)
		if (w->syms[i].bind == STB_LOCAL)
			w->syms[i].index = idx++;
	first_global = idx;
	for (i = 0; i < w->nr_syms; i++)
		if (w->syms[i].bind != STB_LOCAL)
			w->syms[i].index = idx++;

	for (i = 1; i <= w->nr_secs; i++)
		if (w->secs[i].nr_relas)
			nr_rela++;
	symtab_idx = 1 + w->nr_secs + nr_rela;

	if (buf_add(&shstr, "", 1) || buf_add(&str, "", 1))
		goto out;
	for (i = 1; i <= w->nr_secs; i++) {
		struct out_sec *os = &w->secs[i];
		long name = buf_add_str(&shstr, os->name);

		if (name < 0 || new_section(elf, path, name, &os->sh, os->data,
					    os->size, ELF_T_BYTE))
			goto out;
	}
	relbufs = calloc(w->nr_secs + 1, sizeof(*relbufs));
	if (!relbufs)
		goto oom;
	for (i = 1; i <= w->nr_secs; i++) {
		struct out_sec *os = &w->secs[i];
		GElf_Shdr sh = { 0 };
		char *rname;
		long name;

		if (!os->nr_relas)
			continue;
		relbufs[i] = calloc(os->nr_relas, sizeof(Elf64_Rela));
		if (!relbufs[i])
			goto oom;
		for (j = 0; j < os->nr_relas; j++) {
			struct out_rela *r = &os->relas[j];

			relbufs[i][j].r_offset = r->offset;
			relbufs[i][j].r_info =
				ELF64_R_INFO(w->syms[r->sym].index, r->type);
			relbufs[i][j].r_addend = r->addend;
		}
		if (asprintf(&rname, ".rela%s", os->name) < 0)
			goto oom;
		name = buf_add_str(&shstr, rname);
		free(rname);
		sh.sh_type = SHT_RELA;
		sh.sh_flags = SHF_INFO_LINK;
		sh.sh_link = symtab_idx;
		sh.sh_info = i;
		sh.sh_addralign = 8;
		sh.sh_entsize = sizeof(Elf64_Rela);
		if (name < 0 || new_section(elf, path, name, &sh, relbufs[i],
					    os->nr_relas * sizeof(Elf64_Rela),
					    ELF_T_RELA))
			goto out;
	}

	symtab = calloc(w->nr_syms + 1, sizeof(*symtab));
	if (!symtab)
		goto oom;
	for (i = 0; i < w->nr_syms; i++) {
		struct out_sym *s = &w->syms[i];
		Elf64_Sym *es = &symtab[s->index];
		long name = s->type == STT_SECTION ? 0 :
			    buf_add_str(&str, s->name);

		if (name < 0)
			goto out;
		es->st_name = name;
		es->st_info = ELF64_ST_INFO(s->bind, s->type);
		es->st_shndx = s->sec;
		es->st_value = s->value;
		es->st_size = s->size;
	}
	{
		GElf_Shdr sh = { 0 };
		long name = buf_add_str(&shstr, ".symtab");

		sh.sh_type = SHT_SYMTAB;
		sh.sh_link = symtab_idx + 1;
		sh.sh_info = first_global;
		sh.sh_addralign = 8;
		sh.sh_entsize = sizeof(Elf64_Sym);
		if (name < 0 || new_section(elf, path, name, &sh, symtab,
					    (w->nr_syms + 1) * sizeof(*symtab),
					    ELF_T_SYM))
			goto out;
	}
	{
		GElf_Shdr sh = { 0 };
		long name = buf_add_str(&shstr, ".strtab");
		long shname = buf_add_str(&shstr, ".shstrtab");

		sh.sh_type = SHT_STRTAB;
		sh.sh_addralign = 1;
		if (name < 0 || shname < 0 ||
		    new_section(elf, path, name, &sh, str.data, str.len,
				ELF_T_BYTE))
			goto out;
		memset(&sh, 0, sizeof(sh));
		sh.sh_type = SHT_STRTAB;
		sh.sh_addralign = 1;
		if (new_section(elf, path, shname, &sh, shstr.data, shstr.len,
				ELF_T_BYTE))
			goto out;
		eh.e_shstrndx = symtab_idx + 2;
	}
	if (!gelf_update_ehdr(elf, &eh)) {
		elf_fail(path, "gelf_update_ehdr");
		goto out;
	}
	if (elf_update(elf, ELF_C_WRITE) < 0) {
		elf_fail(path, "elf_update");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	ERROR("out of memory");
out:
	if (elf)
		elf_end(elf);
	if (relbufs)
		for (i = 0; i <= w->nr_secs; i++)
			free(relbufs[i]);
	free(relbufs);
	free(symtab);
	free(str.data);
	free(shstr.data);
	return ret;
}
