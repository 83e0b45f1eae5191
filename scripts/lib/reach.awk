# reach.awk FILES INCLUDES (after path.awk): the files that can #include
# one of the files in T (space-separated paths), directly or through
# others, T included.
# FILES lists the tree's files; INCLUDES has "INCLUDER<TAB>a|q<TAB>NAME"
# lines (angle or quoted). A quoted name is looked up beside its
# includer first; then a name is looked up in the kernel's include
# directories; one found in neither (an -I of a Makefile) stands for
# every file whose path ends in it. Conditional includes count as
# taken: the result is a superset of the users, which the preprocessor
# narrows.
BEGIN {
	FS = "\t"
	nstd = split("arch/x86/include arch/x86/include/generated include " \
		"arch/x86/include/uapi arch/x86/include/generated/uapi " \
		"include/uapi include/generated/uapi", std, " ")
}
FNR == NR { exists[$0] = 1; next }
{
	includer = $1
	name = $3
	if ($2 == "q") {
		dir = includer
		if (!sub(/\/[^\/]*$/, "", dir))
			dir = ""
		p = path_norm(dir "/" name, 1)
		if (p in exists) {
			add_edge(p, includer)
			next
		}
	}
	found = 0
	for (i = 1; i <= nstd; i++) {
		p = path_norm(std[i] "/" name, 1)
		if (p in exists) {
			add_edge(p, includer)
			found = 1
		}
	}
	if (!found) {
		name = path_norm(name, 1)
		by_suffix[name] = (name in by_suffix) ? by_suffix[name] SUBSEP includer : includer
	}
}
END {
	n = split(T, queue, " ")
	for (i = 1; i <= n; i++)
		seen[queue[i]] = 1
	for (h = 1; h <= n; h++) {
		t = queue[h]
		if (t in rev)
			n = visit(rev[t], n)
		k = split(t, part, "/")
		s = ""
		for (j = k; j >= 1; j--) {
			s = (s == "") ? part[j] : part[j] "/" s
			if (s in by_suffix)
				n = visit(by_suffix[s], n)
		}
	}
	for (f in seen)
		if (f != "")
			print f
}

function add_edge(target, includer) {
	rev[target] = (target in rev) ? rev[target] SUBSEP includer : includer
}

# visit LIST N: queues the files of LIST not seen yet; the new length.
function visit(list, n,    m, x, inc) {
	m = split(list, inc, SUBSEP)
	for (x = 1; x <= m; x++)
		if (!(inc[x] in seen)) {
			seen[inc[x]] = 1
			queue[++n] = inc[x]
		}
	return n
}
