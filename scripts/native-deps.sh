#!/usr/bin/env bash
# Native libraries the tests and benchmarks need, installed from Debian when missing (as root or via sudo).
# Sourced, not run: set DEPS_CALLER (the name printed in messages), source this file, then call
#   require_nvrtc     NVRTC (libnvrtc.so.11.2/.12/.13, Debian non-free) for the NVRTC compilation tests
#   require_openblas  OpenBLAS (libopenblas.so.0), the GEMM peer of tests and benchmarks
#   require_openmpi   Open MPI (mpirun, libmpi.so.40) for the MPI ring tests
#   require_python    python3, which reads the test results
#   require_cxx       a C++ compiler (g++ or clang++) for the emulator, which compiles kernels at run time
# The caller removes "$APT_LOG" when it exits.
: "${DEPS_CALLER:=native-deps.sh}"

find_ldconfig() {
    if command -v ldconfig >/dev/null 2>&1; then echo ldconfig
    elif [ -x /sbin/ldconfig ]; then echo /sbin/ldconfig
    elif [ -x /usr/sbin/ldconfig ]; then echo /usr/sbin/ldconfig
    else echo ""; fi
}
LDCONFIG="$(find_ldconfig)"

# has_lib REGEX: a shared library whose soname matches REGEX is in the loader cache.
has_lib() {
    # grep reads all of the listing (no -q): an early exit would SIGPIPE ldconfig and, with pipefail, fail.
    [ -n "$LDCONFIG" ] && "$LDCONFIG" -p 2>/dev/null | grep -E "$1" >/dev/null
}

# as_root CMD...: run as root, through sudo (non-interactive) when we are not root.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        return 1
    fi
}

APT_LOG="$(mktemp "${TMPDIR:-/tmp}/kerneldsl-apt.XXXXXX.log")"
APT_UPDATED=0
apt_install() {  # apt_install WHAT PACKAGE
    local what="$1" package="$2"
    echo "$DEPS_CALLER: $what not found; installing Debian package $package ..."
    if ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; }; then
        echo "$DEPS_CALLER: ERROR: cannot install $package (needs apt-get and root or sudo)." >&2
        echo "$DEPS_CALLER: install it by hand (Debian 12: enable the non-free component, then apt-get install $package)." >&2
        exit 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        local sources=/etc/apt/sources.list.d/debian.sources
        if [ -f "$sources" ] && grep -q '^Components: main$' "$sources"; then
            as_root sed -i 's/^Components: main$/Components: main non-free/' "$sources" >>"$APT_LOG" 2>&1 || true
        fi
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$APT_LOG" 2>&1; then
            echo "$DEPS_CALLER: ERROR: apt-get update failed; its log:" >&2
            cat "$APT_LOG" >&2
            exit 1
        fi
        APT_UPDATED=1
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >>"$APT_LOG" 2>&1; then
        echo "$DEPS_CALLER: ERROR: apt-get install $package failed; its log:" >&2
        cat "$APT_LOG" >&2
        exit 1
    fi
}

require_nvrtc() {
    if ! has_lib 'libnvrtc\.so\.(11\.2|12|13)[[:space:]]'; then
        apt_install "NVRTC (libnvrtc.so.11.2/.12/.13)" libnvrtc11.2
        has_lib 'libnvrtc\.so\.(11\.2|12|13)[[:space:]]' || { echo "$DEPS_CALLER: ERROR: libnvrtc still not found after install" >&2; exit 1; }
    fi
}

require_openblas() {
    if ! has_lib 'libopenblas\.so\.0[[:space:]]'; then
        apt_install "OpenBLAS (libopenblas.so.0)" libopenblas0-pthread
        has_lib 'libopenblas\.so\.0[[:space:]]' || { echo "$DEPS_CALLER: ERROR: libopenblas.so.0 still not found after install" >&2; exit 1; }
    fi
}

require_openmpi() {
    if ! command -v mpirun >/dev/null 2>&1 || ! has_lib 'libmpi\.so\.40[[:space:]]'; then
        apt_install "Open MPI (mpirun, libmpi.so.40)" openmpi-bin
        apt_install "Open MPI development files" libopenmpi-dev
        { command -v mpirun >/dev/null 2>&1 && has_lib 'libmpi\.so\.40[[:space:]]'; } || { echo "$DEPS_CALLER: ERROR: mpirun or libmpi.so.40 still not found after install" >&2; exit 1; }
    fi
}

require_python() {
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install "python3" python3
    fi
}

require_cxx() {
    if ! command -v g++ >/dev/null 2>&1 && ! command -v clang++ >/dev/null 2>&1; then
        apt_install "a C++ compiler (g++ or clang++)" g++
        command -v g++ >/dev/null 2>&1 || { echo "$DEPS_CALLER: ERROR: g++ still not found after install" >&2; exit 1; }
    fi
}
