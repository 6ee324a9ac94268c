#!/usr/bin/env bash
# Installs what `make test`, `make demo` and `make bench` need and a fresh
# Debian machine may lack: Debian packages (as root, with apt-get) and Python
# test packages (with pip). Prints what to install when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libtirpc-dev rpcsvc-proto rpcbind rstatd pkg-config valgrind cmake iproute2 netbase)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The Python package's C module needs the headers of the Python that runs it.
py=${PYTHON:-python3}
py_include=$("$py" -c 'import sysconfig; print(sysconfig.get_path("include"))')
[[ -e $py_include/Python.h ]] || missing+=(python3-dev)
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "deps: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "deps: missing Debian packages: ${missing[*]}" >&2
        echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

if ! "$py" -c 'import pytest, pytest_timeout, hypothesis, posix_ipc, mypy' 2>/dev/null; then
    echo "deps: installing Python test packages"
    "$py" -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/python/requirements.txt
fi

# POSIX queues are listed through the mqueue filesystem.
if [[ $(id -u) -eq 0 ]] && ! mountpoint -q /dev/mqueue 2>/dev/null; then
    mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null || true
fi
