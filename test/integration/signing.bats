#!/usr/bin/env bats
# Module signing: --sign-key/--sign-cert sign the module with the
# kernel's sign-file after the klp relocations are written. The test
# kernel has MODULE_SIG and trusts the key its build generated
# (K/build/certs/signing_key.pem, certificate signing_key.x509); booted
# with module.sig_enforce=1 it loads only modules signed with that key.

load ../lib/corpus-lib
load ../lib/helpers

setup_file() {
	corpus_setup
	local out=$BATS_FILE_TMPDIR/out d=$BATS_FILE_TMPDIR
	# A key and certificate the kernel has never seen.
	openssl req -new -nodes -utf8 -sha256 -days 2 -batch -x509 \
		-newkey rsa:2048 -subj "/CN=kbuild-patch untrusted test key" \
		-keyout "$d/wrong.pem" -out "$d/wrong.x509" -outform DER 2>/dev/null
	kbp -o "$out" -n lp-signed --sign-key "$K/build/certs/signing_key.pem" \
		--sign-cert "$K/build/certs/signing_key.x509" \
		"$CORPUS/cmdline-string.patch" >&2
	kbp -o "$out" -n lp-unsigned "$CORPUS/cmdline-string.patch" >&2
	kbp -o "$out" -n lp-wrongkey --sign-key "$d/wrong.pem" \
		--sign-cert "$d/wrong.x509" "$CORPUS/cmdline-string.patch" >&2
}

MARKER='~Module signature appended~'

@test "the signed module carries a signature with the config's hash over the final module" {
	local out=$BATS_FILE_TMPDIR/out hash
	# The kernel's MODULE_SIG_STRING ends the file (then a newline).
	[ "$(tail -c $((${#MARKER} + 1)) "$out/lp-signed.ko")" = "$MARKER" ]
	[ "$(tail -c $((${#MARKER} + 1)) "$out/lp-unsigned.ko")" != "$MARKER" ]
	hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$K/config")
	[ -n "$hash" ]
	[ "$(modinfo -F sig_hashalgo "$out/lp-signed.ko")" = "$hash" ]
	[ -z "$(modinfo -F sig_hashalgo "$out/lp-unsigned.ko")" ]
	# Signed after post-link: the klp relocations are in the signed file.
	readelf -SW "$out/lp-signed.ko" | grep -F '.klp.rela.vmlinux.'
	# The signer is the kernel's key, and the wrong one for the other.
	[ "$(modinfo -F signer "$out/lp-signed.ko")" = \
		"$(openssl x509 -inform DER -in "$K/build/certs/signing_key.x509" -noout -subject -nameopt multiline |
			sed -n 's/^ *commonName *= *//p')" ]
	[ "$(modinfo -F signer "$out/lp-wrongkey.ko")" = "kbuild-patch untrusted test key" ]
}

@test "with module.sig_enforce=1 the signed module loads; unsigned and wrongly signed ones are refused" {
	local out=$BATS_FILE_TMPDIR/out
	{
		kbp_guest_functions
		cat <<-'EOF'
		for m in lp-unsigned lp-wrongkey; do
			if insmod /modules/$m.ko 2>/tmp/err; then
				echo "LOADED $m"
			else
				echo "REFUSED $m: $(cat /tmp/err)"
			fi
		done
		grep -q kbp-patched /proc/cmdline && echo "PATCHED-EARLY"
		insmod /modules/lp-signed.ko || kbp_fail "insmod lp-signed"
		kbp_wait_transition lp_signed || kbp_fail "transition"
		echo "SIGNED enabled=$(cat /sys/kernel/livepatch/lp_signed/enabled)"
		grep -q ' kbp-patched$' /proc/cmdline && echo "PATCHED"
		echo "ENFORCED=$(cat /sys/module/module/parameters/sig_enforce)"
		dmesg | grep -i 'module' | grep -i 'reject' | sed 's/^/DMESG /'
		EOF
	} >"$BATS_TEST_TMPDIR/guest.sh"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --append 'module.sig_enforce=1' \
		--module "$out/lp-signed.ko" --module "$out/lp-unsigned.ko" \
		--module "$out/lp-wrongkey.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"ENFORCED=Y"* ]]
	[[ $output == *"REFUSED lp-unsigned: "*"Key was rejected by service"* ]]
	[[ $output == *"REFUSED lp-wrongkey: "*"Key was rejected by service"* ]]
	[[ $output != *"LOADED lp-"* ]]
	[[ $output != *"PATCHED-EARLY"* ]]
	# The kernel says why: no signature, and a key it doesn't have.
	[[ $output == *"DMESG "*"Loading of unsigned module is rejected"* ]]
	[[ $output == *"DMESG "*"Loading of module with unavailable key is rejected"* ]]
	[[ $output == *"SIGNED enabled=1"* ]]
	[[ $output == *"PATCHED"* ]]
}

@test "signing options: both are needed, missing or unreadable files exit 1 before any build" {
	local out=$BATS_TEST_TMPDIR/out key=$K/build/certs/signing_key.pem
	local cert=$K/build/certs/signing_key.x509
	run kbp -o "$out" --sign-key "$key" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"--sign-key and --sign-cert go together"* ]]
	run kbp -o "$out" --sign-cert "$cert" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"--sign-key and --sign-cert go together"* ]]
	run kbp -o "$out" --sign-key "$BATS_TEST_TMPDIR/nokey.pem" --sign-cert "$cert" \
		"$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"signing key $BATS_TEST_TMPDIR/nokey.pem is not a readable file"* ]]
	# A directory can't be read as a key either.
	run kbp -o "$out" --sign-key "$BATS_TEST_TMPDIR" --sign-cert "$cert" \
		"$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"signing key $BATS_TEST_TMPDIR is not a readable file"* ]]
	run kbp -o "$out" --sign-key "$key" --sign-cert "$BATS_TEST_TMPDIR/nocert" \
		"$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"signing certificate $BATS_TEST_TMPDIR/nocert is not a readable file"* ]]
	# None of these got as far as preparing or building anything.
	[[ $output != *"applying"* ]]
	[ -z "$(ls -A "$out" 2>/dev/null)" ]
}

@test "a key sign-file can't use fails the build with exit 1 and leaves no files" {
	local out=$BATS_TEST_TMPDIR/out
	echo "not a key" >"$BATS_TEST_TMPDIR/garbage.pem"
	run kbp -o "$out" --sign-key "$BATS_TEST_TMPDIR/garbage.pem" \
		--sign-cert "$K/build/certs/signing_key.x509" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"sign-file failed"* ]]
	[ -z "$(ls -A "$out")" ]
}

@test "a kernel without CONFIG_MODULE_SIG: --sign-key exits 1" {
	sed 's/^CONFIG_MODULE_SIG=y/# CONFIG_MODULE_SIG is not set/' "$K/config" \
		>"$BATS_TEST_TMPDIR/config"
	run "$REPO/scripts/kbuild-patch" -s "$K/source" -c "$BATS_TEST_TMPDIR/config" \
		-v "$K/vmlinux" -o "$BATS_TEST_TMPDIR/out" \
		--sign-key "$K/build/certs/signing_key.pem" \
		--sign-cert "$K/build/certs/signing_key.x509" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"has no CONFIG_MODULE_SIG"* ]]
}
