/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbuild-patch.h - the header for patch authors. kbuild-patch puts its
 * directory on the include path of every patched object, so a patch
 * says #include "kbuild-patch.h" in the file it changes.
 *
 * The macros leave small descriptors in sections named .kbp.*. They
 * are markers for the build, never code of the module: create-diff-
 * object reads them, carries the callback functions (which are new
 * functions of the patch) and writes what it found into the object's
 * manifest; kbuild-patch then fills klp_object.callbacks of the object
 * (vmlinux or the module) the file belongs to, and klp_patch.states.
 * The .kbp.* sections themselves never reach the module.
 *
 * Shadow variables use the kernel's klp_shadow_*() API directly
 * (Documentation/livepatch/shadow-vars.rst); it is declared here
 * through <linux/livepatch.h>.
 *
 * kpatch-build's names (kpatch-macros.h) are defined at the end as
 * aliases, so patches written for kpatch-build build unchanged.
 */
#ifndef _KBUILD_PATCH_H
#define _KBUILD_PATCH_H

#include <linux/livepatch.h>
#include <linux/printk.h>
#include <linux/static_call.h>

/* The descriptors, as create-diff-object reads them. */
typedef int (*kbp_pre_patch_t)(struct klp_object *obj);
typedef void (*kbp_patch_cb_t)(struct klp_object *obj);

struct kbp_state_desc {
	unsigned long id;
	unsigned long version;
};

#define __KBP_CALLBACK(kind, type, fn)					\
	static type const __kbp_cb_##kind##_##fn			\
	__section(".kbp.callbacks." #kind) __used __aligned(8) = fn

/*
 * KBP_PRE_PATCH_CALLBACK(fn) - int fn(struct klp_object *obj) runs before
 * the object (vmlinux, or the module this file belongs to) is patched:
 * when the patch is enabled, or when the module loads later. A non-zero
 * return aborts: the patch (or the module) then fails to load, and no
 * other callback of this object runs.
 */
#define KBP_PRE_PATCH_CALLBACK(fn)					\
	__KBP_CALLBACK(pre_patch, kbp_pre_patch_t, fn)

/*
 * KBP_POST_PATCH_CALLBACK(fn) - void fn(struct klp_object *obj) runs
 * once the patching transition of the object is complete.
 */
#define KBP_POST_PATCH_CALLBACK(fn)					\
	__KBP_CALLBACK(post_patch, kbp_patch_cb_t, fn)

/*
 * KBP_PRE_UNPATCH_CALLBACK(fn) - void fn(struct klp_object *obj) runs
 * before the object is unpatched: when the patch is disabled (or
 * replaced), or before its module goes away.
 */
#define KBP_PRE_UNPATCH_CALLBACK(fn)					\
	__KBP_CALLBACK(pre_unpatch, kbp_patch_cb_t, fn)

/*
 * KBP_POST_UNPATCH_CALLBACK(fn) - void fn(struct klp_object *obj) runs
 * once the object is unpatched; free shadow variables here
 * (klp_shadow_free_all()).
 *
 * Each callback belongs to the object of the file it appears in. Several
 * callbacks of one kind for one object (from several files) all run:
 * pre-/post-patch ones in link order, stopping at the first pre-patch
 * one that fails; pre-/post-unpatch ones in the reverse order.
 */
#define KBP_POST_UNPATCH_CALLBACK(fn)					\
	__KBP_CALLBACK(post_unpatch, kbp_patch_cb_t, fn)

/*
 * KBP_STATE(id, version) - declares the system state id, at version, as a
 * klp_state of this patch (Documentation/livepatch/system-state.rst).
 * The kernel then refuses to let this patch replace a patch that has
 * the same state at a higher version, and a replacing patch must
 * declare every state of the patches it replaces. id is a non-zero
 * constant; several files may declare the same id at the same version.
 */
#define KBP_STATE(id, version)						\
	static_assert((id) != 0, "KBP_STATE: the id must not be 0");	\
	static_assert((unsigned long)(version) <= 0xffffffffUL,		\
		      "KBP_STATE: the version must fit in unsigned int");	\
	static const struct kbp_state_desc __UNIQUE_ID(kbp_state)	\
	__section(".kbp.state") __used __aligned(8) = { (id), (version) }

/*
 * KBP_GET_STATE(id) - this patch's struct klp_state of id (declared with
 * KBP_STATE), or NULL: klp_get_state() for the patch module's own
 * klp_patch, which patched code can't name. Its .data is the patch's to
 * set, e.g. in a pre-patch callback from klp_get_prev_state(id)->data,
 * as Documentation/livepatch/system-state.rst shows.
 */
struct klp_state *kbp_get_state(unsigned long id);
#define KBP_GET_STATE(id) kbp_get_state(id)

/*
 * KBP_IGNORE_FUNCTION(fn) - the diff ignores the function fn of this
 * file (with its .cold part and compiler clones): it is neither reported
 * changed nor carried, and patched code that calls it calls the running
 * kernel's copy. The marker only names fn; it doesn't take its address,
 * so it changes no code.
 */
#define KBP_IGNORE_FUNCTION(fn)						\
	static_assert(__builtin_types_compatible_p(typeof(fn), typeof(fn)), \
		      "KBP_IGNORE_FUNCTION: not a declared name");	\
	static const char __kbp_ignore_fn_##fn[]			\
	__section(".kbp.ignore.functions") __used __aligned(1) = #fn

/*
 * KBP_IGNORE_SECTION(name) - the diff ignores the section name (a string,
 * e.g. ".text.unlikely.foo") of this object: changes in it don't count,
 * it is never carried, and what it defines is referred to in the
 * running kernel.
 */
#define KBP_IGNORE_SECTION(name)					\
	static const char __UNIQUE_ID(kbp_ignore_sec)[]			\
	__section(".kbp.ignore.sections") __used __aligned(1) = name

/*
 * KBP_STATIC_CALL(name) - use instead of static_call(name) to call a
 * static call whose key lives in a module: KBP_STATIC_CALL(name)(args).
 * The patch module's static call sites are set up when it loads, before
 * the klp relocations to the module are applied, so a direct call of
 * the trampoline can't be used. This reads the key's current function at
 * run time (static_call_query()) and calls it indirectly: the call leaves
 * no .static_call_sites entry behind. The key must not be NULL
 * (static_call_cond() users: test static_call_query(name) first).
 */
#define KBP_STATIC_CALL(name)						\
	((typeof(&STATIC_CALL_TRAMP(name)))static_call_query(name))

/*
 * KBP_PRINTK(fmt, ...) - printk() for patched code. printk() is __cold,
 * and gcc takes the code that calls it, even a whole function, for
 * unlikely code: it may move the function to .text.unlikely or split
 * it, which turns a small change into a large diff. This calls a
 * noinline helper that is not __cold instead.
 */
static __maybe_unused noinline __printf(1, 2)
int kbp_printk(const char *fmt, ...)
{
	va_list args;
	int ret;

	va_start(args, fmt);
	ret = vprintk(fmt, args);
	va_end(args);
	return ret;
}

#define KBP_PRINTK(fmt, ...) kbp_printk(fmt, ##__VA_ARGS__)

/* kpatch-build's names (kpatch-macros.h). */
typedef struct klp_object patch_object;

#define KPATCH_PRE_PATCH_CALLBACK(fn)	KBP_PRE_PATCH_CALLBACK(fn)
#define KPATCH_POST_PATCH_CALLBACK(fn)	KBP_POST_PATCH_CALLBACK(fn)
#define KPATCH_PRE_UNPATCH_CALLBACK(fn)	KBP_PRE_UNPATCH_CALLBACK(fn)
#define KPATCH_POST_UNPATCH_CALLBACK(fn)	KBP_POST_UNPATCH_CALLBACK(fn)
#define KPATCH_IGNORE_FUNCTION(fn)	KBP_IGNORE_FUNCTION(fn)
#define KPATCH_IGNORE_SECTION(name)	KBP_IGNORE_SECTION(name)
#define KPATCH_STATIC_CALL(name)	KBP_STATIC_CALL(name)
#define KPATCH_PRINTK(fmt, ...)		KBP_PRINTK(fmt, ##__VA_ARGS__)

/* kpatch-build markers without an equivalent here: a clear build error. */
#define KPATCH_IGNORE_STATIC(name)					\
	static_assert(0, "KPATCH_IGNORE_STATIC is not supported by kbuild-patch: static locals are paired by the function that uses them")
#define KPATCH_FORCE_UNSAFE(fn)						\
	static_assert(0, "KPATCH_FORCE_UNSAFE is not supported by kbuild-patch: patch its callers instead")

#endif /* _KBUILD_PATCH_H */
