#!/usr/bin/env bash
# `make install` then a C program built with pkg-config, shared and static;
# the soname and its symlinks; stripped files with their debug information
# apart; DESTDIR staging; `make uninstall`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in pkg-config readelf objdump "${CC:-cc}"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (install pkg-config, binutils, gcc)"; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xipc-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
major=${version%%.*}

fail() { echo "FAIL: $*"; exit 1; }
quiet_make() { make -s -C "$root" "$@" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make $*"; }; }

quiet_make install PREFIX="$prefix"

# The files, the symlink chain and the soname.
for f in "lib/libxipc.so.$version" lib/libxipc.a include/xipc.h lib/pkgconfig/xipc.pc bin/xipc; do
    [[ -f "$prefix/$f" ]] || fail "make install did not install $f"
done
[[ $(readlink "$prefix/lib/libxipc.so.$major") == "libxipc.so.$version" ]] || fail "libxipc.so.$major is not a link to libxipc.so.$version"
[[ $(readlink "$prefix/lib/libxipc.so") == "libxipc.so.$major" ]] || fail "libxipc.so is not a link to libxipc.so.$major"
soname=$(readelf -d "$prefix/lib/libxipc.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == "libxipc.so.$major" ]] || fail "soname is '$soname', expected libxipc.so.$major"
echo "installed: libxipc.so.$version (soname $soname), symlinks, libxipc.a, xipc.h, xipc.pc"

# Stripped: no symbol table or debug sections in what programs load; the
# debug information in .debug/NAME.debug, named by a .gnu_debuglink with its
# CRC; the archive without debug sections or embedded bitcode.
sections() { readelf -SW "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p'; }
for f in "lib/libxipc.so.$version" bin/xipc; do
    file="$prefix/$f"
    debug="$(dirname "$file")/.debug/$(basename "$file").debug"
    s=$(sections "$file")
    # (.debug_gdb_scripts is loaded data, the pretty-printer list rustc adds.)
    unstripped=$(grep -E '^\.(debug_(info|line|str|abbrev|ranges|rnglists|loclists)|symtab)$' <<<"$s" || true)
    [[ -z $unstripped ]] || fail "$f is not stripped: $(tr '\n' ' ' <<<"$unstripped")"
    grep -qx .gnu_debuglink <<<"$s" || fail "$f has no .gnu_debuglink"
    link=$(readelf -p .gnu_debuglink "$file" | sed -n 's/^ *\[ *0\] *//p')
    [[ $link == "$(basename "$debug")" ]] || fail "$f links to debug file '$link'"
    [[ -f $debug ]] || fail "$debug (the debug information of $f) is missing"
    sections "$debug" | grep -qx .debug_info || fail "$debug has no .debug_info"
    sections "$debug" | grep -qx .debug_line || fail "$debug has no .debug_line"
    # A debugger takes the debug file only if its CRC-32 is the one the link records.
    objcopy --dump-section .gnu_debuglink="$tmp/link" "$file" "$tmp/unused"
    "${PYTHON:-python3}" - "$tmp/link" "$debug" <<'PY' || fail "the CRC in the debug link of $f does not match $debug"
import struct, sys, zlib
link = open(sys.argv[1], "rb").read()
(crc,) = struct.unpack("<I", link[-4:])
sys.exit(crc != zlib.crc32(open(sys.argv[2], "rb").read()))
PY
done
so_size=$(stat -c %s "$prefix/lib/libxipc.so.$version")
((so_size < 4 * 1024 * 1024)) || fail "the installed libxipc.so is $so_size bytes (stripped, it is about 1 MB)"
s=$(objdump -h "$prefix/lib/libxipc.a" | awk '{print $2}' | sort -u)
if grep -qE '^\.(debug_|llvmbc)' <<<"$s"; then fail "libxipc.a keeps debug sections or bitcode: $(grep -E '^\.(debug_|llvmbc)' <<<"$s" | tr '\n' ' ')"; fi
echo "stripped: libxipc.so.$version ($so_size bytes), xipc and libxipc.a; debug information in .debug/"

cat > "$tmp/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <xipc.h>

int main(void) {
    if (strcmp(xipc_version(), XIPC_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", XIPC_VERSION_STRING, xipc_version());
        return 1;
    }
    xipc_encoder *enc;
    if (xipc_encoder_new(&enc) != XIPC_OK) return 1;
    xipc_encoder_put_string(enc, "hi");
    xipc_encoder_put_int(enc, -1);
    const uint8_t *data;
    size_t len;
    xipc_encoder_data(enc, &data, &len);
    xipc_decoder *dec;
    char s[8];
    size_t n;
    int32_t v;
    if (xipc_decoder_new(data, len, NULL, &dec) != XIPC_OK ||
        xipc_decoder_get_string(dec, 8, s, sizeof s, &n) != XIPC_OK ||
        xipc_decoder_get_int(dec, &v) != XIPC_OK) {
        fprintf(stderr, "decoding failed: %s\n", xipc_last_error());
        return 1;
    }
    printf("xipc %s: %zu bytes, \"%s\" %d\n", xipc_version(), len, s, v);
    xipc_decoder_free(dec);
    xipc_encoder_free(enc);
    return 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[[ $(pkg-config --modversion xipc) == "$version" ]] || fail "pkg-config reports version $(pkg-config --modversion xipc)"
expected="xipc $version: 12 bytes, \"hi\" -1"

# Shared: cc prog.c $(pkg-config --cflags --libs xipc), run via LD_LIBRARY_PATH.
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" $(pkg-config --cflags --libs xipc)
readelf -d "$tmp/prog" | grep -q "NEEDED.*\[libxipc.so.$major\]" || fail "prog does not need libxipc.so.$major"
out=$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/prog")
[[ $out == "$expected" ]] || fail "shared: got '$out'"
resolved=$(LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/prog" | sed -n 's/.*libxipc.so.[0-9]* => \([^ ]*\).*/\1/p')
[[ $resolved == "$prefix/lib/libxipc.so.$major" ]] || fail "prog loads libxipc from '$resolved'"
echo "shared: $out (loaded from the prefix)"

# Shared with an rpath instead of LD_LIBRARY_PATH.
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -o "$tmp/prog_rpath" "$tmp/prog.c" $(pkg-config --cflags --libs xipc) -Wl,-rpath,"$prefix/lib"
out=$("$tmp/prog_rpath")
[[ $out == "$expected" ]] || fail "rpath: got '$out'"
echo "rpath: $out"

# Static: the archive and the private libraries pkg-config lists.
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -o "$tmp/prog_static" "$tmp/prog.c" $(pkg-config --cflags xipc) \
    "$prefix/lib/libxipc.a" $(pkg-config --libs-only-l --static xipc | sed 's/-lxipc//')
if readelf -d "$tmp/prog_static" | grep -q "libxipc"; then fail "the static program still needs libxipc.so"; fi
out=$(env -u LD_LIBRARY_PATH "$tmp/prog_static")
[[ $out == "$expected" ]] || fail "static: got '$out'"
echo "static: $out (no libxipc.so needed)"

# DESTDIR stages the same tree under another root.
quiet_make install PREFIX=/opt/xipc DESTDIR="$tmp/stage"
[[ -L "$tmp/stage/opt/xipc/lib/libxipc.so" && -f "$tmp/stage/opt/xipc/include/xipc.h" ]] || fail "DESTDIR install is incomplete"
grep -qx "prefix=/opt/xipc" "$tmp/stage/opt/xipc/lib/pkgconfig/xipc.pc" || fail "xipc.pc under DESTDIR does not name the final prefix"
echo "DESTDIR: staged under \$DESTDIR/opt/xipc with prefix=/opt/xipc in xipc.pc"

# Uninstall removes everything install put there.
quiet_make uninstall PREFIX="$prefix"
left=$(find "$prefix" -type f -o -type l)
[[ -z $left ]] || fail "make uninstall left: $left"
echo "uninstall: nothing left"
echo "PASS: install_pkgconfig"
