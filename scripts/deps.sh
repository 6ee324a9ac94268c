#!/usr/bin/env bash
# Installs what one make target needs and a fresh Debian machine may lack:
# Debian packages (as root, with apt-get) and Python packages (with pip).
# Prints what to install when it cannot.
#
#   scripts/deps.sh demo     what `make demo` needs: a C compiler, cargo, python3
#   scripts/deps.sh bench    what `make bench` needs: the baselines (libtirpc,
#                            rpcgen, posix_ipc) and the Python headers
#   scripts/deps.sh test     what `make test` needs: everything above and the
#                            test tools (valgrind, cmake, rpcbind, pytest, ...)
#   scripts/deps.sh --print TARGET   lists TARGET's packages, installs nothing
set -euo pipefail
cd "$(dirname "$0")/.."

print=0
if [[ ${1:-} == --print ]]; then
    print=1
    shift
fi
target=${1:-test}
py=${PYTHON:-python3}

# Debian packages and Python modules (import name=pip name) per target.
case $target in
demo)
    apt_packages=()
    py_modules=()
    ;;
bench)
    apt_packages=(libtirpc-dev rpcsvc-proto pkg-config util-linux openssl libssl-dev)
    py_modules=(posix_ipc=posix_ipc)
    ;;
test)
    apt_packages=(libtirpc-dev rpcsvc-proto rpcbind rstatd pkg-config valgrind cmake iproute2 netbase
                  util-linux bsdutils binutils openssl tshark)
    py_modules=(pytest=pytest pytest_timeout=pytest-timeout hypothesis=hypothesis
                posix_ipc=posix_ipc mypy=mypy numpy=numpy)
    ;;
*)
    echo "deps: unknown target '$target' (demo, bench or test)" >&2
    exit 2
    ;;
esac
# Every target compiles C; bench and test also build the Python package's C
# module, which needs the headers of the Python that runs it.
command -v "${CC:-cc}" >/dev/null || apt_packages+=(gcc libc6-dev)
if [[ $target != demo ]]; then
    py_include=$("$py" -c 'import sysconfig; print(sysconfig.get_path("include"))')
    [[ -e $py_include/Python.h ]] || apt_packages+=(python3-dev)
fi

if ((print)); then
    echo "debian: ${apt_packages[*]}"
    pip_names=()
    for m in "${py_modules[@]}"; do pip_names+=("${m#*=}"); done
    echo "python: ${pip_names[*]}"
    exit 0
fi

missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
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

missing=()
for m in "${py_modules[@]}"; do
    "$py" -c "import ${m%%=*}" 2>/dev/null || missing+=("${m#*=}")
done
if ((${#missing[@]})); then
    echo "deps: installing Python packages ${missing[*]}"
    constraints=()
    [[ $target == test ]] && constraints=(-r tests/python/requirements.txt)
    "$py" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        "${constraints[@]}" "${missing[@]}"
fi

for tool in "${CC:-cc}" cargo "$py"; do
    command -v "$tool" >/dev/null || { echo "deps: $tool is missing (cargo: install a Rust toolchain with rustup)" >&2; exit 1; }
done

# Tests list POSIX queues through the mqueue filesystem.
if [[ $target == test && $(id -u) -eq 0 ]] && ! mountpoint -q /dev/mqueue 2>/dev/null; then
    mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null || true
fi
