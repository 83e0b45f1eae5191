# compile-commands.awk (after path.awk): from the recipes that "make -n"
# prints for a kernel build, the compile command of each object, as
# "OBJECT<TAB>SOURCE<TAB>COMMAND" (OBJECT relative to the build directory,
# SOURCE to the source tree given as srctree, COMMAND as the shell gets
# it, with "-c -o OBJECT" as @KBP_OUTPUT@ and without the dependency
# file, for the caller to fill in). kbuild's
# recipe joins its steps with "; ": the compile is the step with "-c -o"
# and the dependency file (-Wp,-MMD), which host programs don't have.
{
	if (!index($0, " -c -o ") || !index($0, "-Wp,-MMD,"))
		next
	n = split($0, step, "; ")
	for (i = 1; i <= n; i++) {
		s = step[i]
		if (!index(s, " -c -o ") || !index(s, "-Wp,-MMD,"))
			continue
		sub(/^[ \t]+/, "", s)
		sub(/[ \t]+$/, "", s)
		m = split(s, w, " ")
		if (w[m] !~ /\.[cS]$/)
			continue
		obj = ""
		for (j = 1; j < m; j++)
			if (w[j] == "-o")
				obj = w[j + 1]
		k = index(s, " -c -o " obj " ")
		if (obj == "" || !k)
			continue
		s = substr(s, 1, k) "@KBP_OUTPUT@" substr(s, k + length(" -c -o " obj))
		for (j = 1; j < m; j++)
			if (w[j] ~ /^-Wp,-MMD,/) {
				k = index(s, " " w[j] " ")
				s = substr(s, 1, k) substr(s, k + length(w[j]) + 2)
			}
		src = w[m]
		if (substr(src, 1, length(srctree) + 1) == srctree "/")
			src = substr(src, length(srctree) + 2)
		print path_norm(obj, 0) "\t" path_norm(src, 0) "\t" s
		break
	}
}
