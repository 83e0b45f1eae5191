# path.awk: path helpers for the other awk programs, loaded before them
# (awk -f path.awk -f PROGRAM.awk); mawk and gawk alike.

# path_norm PATH, WITHIN: PATH without "." and "dir/.." parts
# (drivers/gpu/drm/../../accel/x.o is drivers/accel/x.o). With WITHIN
# true, PATH names a file of a tree whose top has no parent: a ".." above
# the top and a leading "/" are dropped. Without it, a leading ".." (a
# file outside the build directory) and a leading "/" stay.
function path_norm(p, within,    n, i, k, part, out) {
	n = split(p, part, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (part[i] == "" || part[i] == ".")
			continue
		if (part[i] == ".." && (within || (k > 0 && out[k] != ".."))) {
			if (k > 0)
				k--
			continue
		}
		out[++k] = part[i]
	}
	p = (!within && substr(p, 1, 1) == "/") ? "/" : ""
	for (i = 1; i <= k; i++)
		p = p (i > 1 ? "/" : "") out[i]
	return p
}
