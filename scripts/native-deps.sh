#!/usr/bin/env bash
# Native libraries the tests and benchmarks need, installed from Debian when missing (as root or via sudo).
# Sourced, not run: set DEPS_CALLER (the name printed in messages), source this file, then call
#   require_nvrtc     NVRTC (libnvrtc.so.11.2/.12/.13, Debian non-free) for the NVRTC compilation tests
#   require_cuda12_tools  NVRTC 12.4, nvdisasm and cuobjdump from Debian trixie, unpacked into $KERNELDSL_CUDA12_DIR
#                     (sm_90a compiles and the SASS checks); the machine's release and apt state are not touched
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

# The folder require_cuda12_tools unpacks into; the tests probe the same rule
# (tests/KernelDsl.Generator.Tests/Infrastructure/CudaToolchain.cs). $XDG_CACHE_HOME counts only when absolute.
cuda12_dir() {
    local xdg="${XDG_CACHE_HOME:-}"
    if [ -n "${KERNELDSL_CUDA12_DIR:-}" ]; then
        echo "$KERNELDSL_CUDA12_DIR"
    elif [ "${xdg#/}" != "$xdg" ]; then
        echo "$xdg/kerneldsl/cuda12"
    else
        echo "${HOME:-/tmp}/.cache/kerneldsl/cuda12"
    fi
}

# The Debian mirror this machine's own sources name (its .../debian URI, not debian-security).
debian_mirror() {
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)"
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\/.*\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list)"
    fi
    echo "${uri%/}"
}

# require_cuda12_tools: Debian trixie's non-free libnvrtc12 (12.4), libnvrtc-builtins12.4 and, from
# nvidia-cuda-toolkit, nvdisasm and cuobjdump, unpacked into $(cuda12_dir) as lib/ and bin/. apt runs
# with a private one-line source list, lists and cache (no root needed, nothing of the machine's apt
# state changes); the packages are unpacked with dpkg-deb, never installed. A folder that has the
# files is used as it is (any toolkit laid out so will do); a new one is built beside it and renamed
# into place, so an interrupted fetch leaves nothing half-made under that name.
require_cuda12_tools() {
    local dir
    dir="$(cuda12_dir)"
    # Exported: the tests then look exactly here.
    if [ -e "$dir/lib/libnvrtc.so.12" ] && [ -x "$dir/bin/nvdisasm" ] && [ -x "$dir/bin/cuobjdump" ]; then
        export KERNELDSL_CUDA12_DIR="$dir"
        return 0
    fi
    local fail="$DEPS_CALLER: ERROR: cannot fetch the CUDA 12 tools"
    if [ -e "$dir" ]; then
        echo "$fail: $dir exists but lacks lib/libnvrtc.so.12, bin/nvdisasm or bin/cuobjdump; remove it (or set KERNELDSL_CUDA12_DIR elsewhere) and run again." >&2
        exit 1
    fi
    echo "$DEPS_CALLER: NVRTC 12.4 / nvdisasm not found in $dir; fetching Debian trixie's libnvrtc12, libnvrtc-builtins12.4 and nvidia-cuda-toolkit ..."
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 \
        || { echo "$fail (needs apt-get and dpkg-deb; set KERNELDSL_CUDA12_DIR to a folder with lib/libnvrtc.so.12, lib/libnvrtc-builtins.so.12.4, bin/nvdisasm and bin/cuobjdump)." >&2; exit 1; }
    local mirror
    mirror="$(debian_mirror)"
    [ -n "$mirror" ] || { echo "$fail: no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list." >&2; exit 1; }
    require_python   # the load check below

    mkdir -p "$(dirname "$dir")"
    local work
    work="$(mktemp -d "$dir.XXXXXX")" && chmod 755 "$work"
    # fail_with MESSAGE: the message and apt's log, the half-made folder removed.
    fail_with() { echo "$fail: $1; the log:" >&2; cat "$APT_LOG" >&2; rm -rf "$work"; exit 1; }
    # apt as this user, in folders this user owns (as root, no _apt sandbox that could not write here).
    mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs" "$work/root" "$work/lib" "$work/bin"
    echo "deb $mirror trixie main non-free" >"$work/apt/sources.list"
    local apt=(apt-get -q -o "Dir::Etc::sourcelist=$work/apt/sources.list" -o Dir::Etc::sourceparts=-
               -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
               -o "APT::Sandbox::User=$(id -un)")
    "${apt[@]}" update >>"$APT_LOG" 2>&1 || fail_with "apt-get update from $mirror trixie failed"
    (cd "$work/debs" && "${apt[@]}" download libnvrtc12 libnvrtc-builtins12.4 nvidia-cuda-toolkit) >>"$APT_LOG" 2>&1 \
        || fail_with "apt-get download failed"
    local deb
    for deb in "$work"/debs/libnvrtc*.deb; do
        dpkg-deb -x "$deb" "$work/root" >>"$APT_LOG" 2>&1 || fail_with "dpkg-deb -x $deb failed"
    done
    # Only the two tools of the 87 MB toolkit (nvcc, ptxas, cicc... are not needed).
    { dpkg-deb --fsys-tarfile "$work"/debs/nvidia-cuda-toolkit_*.deb | tar -x -C "$work/root" ./usr/bin/nvdisasm ./usr/bin/cuobjdump; } >>"$APT_LOG" 2>&1 \
        || fail_with "unpacking nvdisasm and cuobjdump failed"
    cp -a "$work"/root/usr/lib/*/libnvrtc* "$work/lib/" && cp -a "$work/root/usr/bin/nvdisasm" "$work/root/usr/bin/cuobjdump" "$work/bin/" \
        || fail_with "the packages lack the expected files"
    (cd "$work/debs" && ls) >"$work/packages"
    rm -rf "$work/apt" "$work/debs" "$work/root"

    # NVRTC opens libnvrtc-builtins.so.12.4 by name when it compiles: here with the folder on the library
    # path (the runtime's NvrtcLibrary.Load preloads it from beside libnvrtc.so.12 instead).
    LD_LIBRARY_PATH="$work/lib" python3 - "$work/lib/libnvrtc.so.12" >>"$APT_LOG" 2>&1 <<'PY' || fail_with "the unpacked libnvrtc.so.12 did not compile a test kernel for sm_90a"
import ctypes, sys
nvrtc = ctypes.CDLL(sys.argv[1])
program = ctypes.c_void_p()
assert nvrtc.nvrtcCreateProgram(ctypes.byref(program), b'extern "C" __global__ void k(float* x) { x[0] = 1.0f; }', b"k.cu", 0, None, None) == 0
options = (ctypes.c_char_p * 1)(b"--gpu-architecture=sm_90a")
status = nvrtc.nvrtcCompileProgram(program, 1, options)
size = ctypes.c_size_t()
nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
log = ctypes.create_string_buffer(size.value)
nvrtc.nvrtcGetProgramLog(program, log)
print(log.value.decode())
sys.exit(status)
PY
    "$work/bin/nvdisasm" --version >>"$APT_LOG" 2>&1 || fail_with "the unpacked nvdisasm does not run"
    mv -T "$work" "$dir"
    echo "$DEPS_CALLER: CUDA 12 tools in $dir: $(tr '\n' ' ' <"$dir/packages")"
    export KERNELDSL_CUDA12_DIR="$dir"
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
