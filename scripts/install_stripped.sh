#!/usr/bin/env bash
# install_stripped.sh MODE SOURCE DEST: installs a built library or program
# without its debug information, which stays available apart.
#
# A shared library or an executable is stripped of its symbols and debug
# sections; its debug information goes to DIR/.debug/NAME.debug beside it,
# linked by a .gnu_debuglink section, where gdb, elfutils and
# systemd-coredump look for it. A static archive keeps its symbols (the
# linker needs them) and loses its debug sections, as Debian packages do,
# and the LLVM bitcode rustc embeds in each object (.llvmbc, .llvmcmd:
# sections every linker leaves out of what it links).
# STRIP and OBJCOPY name the tools (default: strip, objcopy from binutils).
set -euo pipefail
if (($# != 3)); then
    echo "usage: $0 MODE SOURCE DEST" >&2
    exit 2
fi
mode=$1 source=$2 dest=$3
strip=${STRIP:-strip}
objcopy=${OBJCOPY:-objcopy}
for tool in "$strip" "$objcopy"; do
    command -v "$tool" >/dev/null || { echo "install: $tool is missing (apt-get install binutils)" >&2; exit 1; }
done

install -m "$mode" "$source" "$dest"
case $dest in
*.a)
    "$strip" --strip-debug --enable-deterministic-archives \
        --remove-section=.llvmbc --remove-section=.llvmcmd "$dest"
    ;;
*)
    dir=$(dirname "$dest")
    debug="$dir/.debug/$(basename "$dest").debug"
    install -d "$dir/.debug"
    "$objcopy" --only-keep-debug --compress-debug-sections "$dest" "$debug"
    chmod 644 "$debug"
    "$strip" --strip-unneeded --remove-section=.comment "$dest"
    "$objcopy" --add-gnu-debuglink="$debug" "$dest"
    ;;
esac
