#!/usr/bin/env bash
# `make install`, then a tiny CMake project does find_package(xipc) and links
# xipc::xipc (shared) and xipc::xipc_static; version requests are honoured;
# `make uninstall` removes the CMake files with the rest.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
for tool in cmake readelf "${CC:-cc}"; do
    command -v "$tool" >/dev/null || fail "$tool is missing (install cmake, binutils, gcc; scripts/deps.sh installs cmake)"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xipc-cmake.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
major=${version%%.*}
minor=$(cut -d. -f2 <<<"$version")
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "$*"; }; }

quiet make -s -C "$root" install PREFIX="$prefix"
for f in xipcConfig.cmake xipcConfigVersion.cmake; do
    [[ -f "$prefix/lib/cmake/xipc/$f" ]] || fail "make install did not install lib/cmake/xipc/$f"
done

mkdir -p "$tmp/app"
cat > "$tmp/app/app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <xipc.h>

int main(void) {
    xipc_encoder *enc;
    if (xipc_encoder_new(&enc) != XIPC_OK) return 1;
    xipc_encoder_put_int(enc, 7);
    xipc_encoder_put_string(enc, "cmake");
    const uint8_t *data;
    size_t len;
    xipc_encoder_data(enc, &data, &len);
    xipc_decoder *dec;
    int32_t v;
    char s[8];
    size_t n;
    if (xipc_decoder_new(data, len, NULL, &dec) != XIPC_OK || xipc_decoder_get_int(dec, &v) != XIPC_OK ||
        xipc_decoder_get_string(dec, 8, s, sizeof s, &n) != XIPC_OK) {
        fprintf(stderr, "decoding failed: %s\n", xipc_last_error());
        return 1;
    }
    printf("xipc %s (header %s): %zu bytes, %d \"%s\"\n", xipc_version(), XIPC_VERSION_STRING, len, v, s);
    xipc_decoder_free(dec);
    xipc_encoder_free(enc);
    return strcmp(xipc_version(), XIPC_VERSION_STRING) != 0;
}
C
write_project() {  # $1: the find_package arguments
    cat > "$tmp/app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.13)
project(xipc_consumer C)
find_package(xipc $1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE xipc::xipc)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE xipc::xipc_static)
CMAKE
}
configure() { rm -rf "$tmp/build"; cmake -S "$tmp/app" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix"; }

write_project "$major.$minor"
quiet configure
quiet cmake --build "$tmp/build"
expected="xipc $version (header $version): 16 bytes, 7 \"cmake\""

# Shared: CMake puts the imported library's directory in the build rpath.
readelf -d "$tmp/build/app" | grep -q "NEEDED.*\[libxipc.so.$major\]" || fail "app does not need libxipc.so.$major"
out=$(env -u LD_LIBRARY_PATH "$tmp/build/app")
[[ $out == "$expected" ]] || fail "shared: got '$out'"
resolved=$(env -u LD_LIBRARY_PATH ldd "$tmp/build/app" | sed -n 's/.*libxipc.so.[0-9]* => \([^ ]*\).*/\1/p')
[[ $resolved == "$prefix/lib/libxipc.so.$major" ]] || fail "app loads libxipc from '$resolved'"
echo "xipc::xipc: $out (from $resolved)"

# Static: no libxipc.so needed at run time.
if readelf -d "$tmp/build/app_static" | grep -q libxipc; then fail "app_static still needs libxipc.so"; fi
out=$(env -u LD_LIBRARY_PATH "$tmp/build/app_static")
[[ $out == "$expected" ]] || fail "static: got '$out'"
echo "xipc::xipc_static: $out"

# Version requests: an exact match and no version pass; a later minor or
# another major fails with CMake's version message.
for request in "$version EXACT" ""; do
    write_project "$request"
    quiet configure
done
for request in "$major.$((minor + 1))" "$((major + 1)).0"; do
    write_project "$request"
    if configure >"$tmp/log" 2>&1; then fail "find_package(xipc $request) accepted version $version"; fi
    grep -q "version: $version" "$tmp/log" || { cat "$tmp/log"; fail "find_package(xipc $request) failed without naming version $version"; }
done
echo "versions: $version satisfies '$major.$minor', '$version EXACT' and none; refuses $major.$((minor + 1)) and $((major + 1)).0"

# DESTDIR stages the config with the final paths.
quiet make -s -C "$root" install PREFIX=/opt/xipc DESTDIR="$tmp/stage"
grep -q 'set(_xipc_libdir "/opt/xipc/lib")' "$tmp/stage/opt/xipc/lib/cmake/xipc/xipcConfig.cmake" \
    || fail "the staged xipcConfig.cmake does not name the final prefix"

quiet make -s -C "$root" uninstall PREFIX="$prefix"
[[ ! -e "$prefix/lib/cmake/xipc" ]] || fail "make uninstall left $prefix/lib/cmake/xipc"
left=$(find "$prefix" -type f -o -type l)
[[ -z $left ]] || fail "make uninstall left: $left"
echo "uninstall: the CMake files and the rest removed"
echo "PASS: packaging_cmake"
