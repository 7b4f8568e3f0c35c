#!/usr/bin/env bash
# The test command (README). From any directory:
#   1. installs what the tests need when it is missing (NVRTC, OpenBLAS, Open MPI; Debian, as root or via sudo),
#   2. runs every test project in KernelDsl.sln (Release),
#   3. runs the package smoke test (scripts/pack-smoke.sh) as one more test,
#   4. ends with one line: "N passed, N failed, N skipped"; exits non-zero if anything failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1

command -v dotnet >/dev/null 2>&1 || { echo "test.sh: ERROR: 'dotnet' not found; install the .NET 10 SDK." >&2; exit 1; }

# ---------------------------------------------------------------- 1. native dependencies
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
RESULTS=""
trap 'rm -f "$APT_LOG"; [ -z "$RESULTS" ] || rm -rf "$RESULTS"' EXIT
APT_UPDATED=0
apt_install() {  # apt_install WHAT PACKAGE
    local what="$1" package="$2"
    echo "test.sh: $what not found; installing Debian package $package ..."
    if ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; }; then
        echo "test.sh: ERROR: cannot install $package (needs apt-get and root or sudo)." >&2
        echo "test.sh: install it by hand (Debian 12: enable the non-free component, then apt-get install $package)." >&2
        exit 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        local sources=/etc/apt/sources.list.d/debian.sources
        if [ -f "$sources" ] && grep -q '^Components: main$' "$sources"; then
            as_root sed -i 's/^Components: main$/Components: main non-free/' "$sources" >>"$APT_LOG" 2>&1 || true
        fi
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$APT_LOG" 2>&1; then
            echo "test.sh: ERROR: apt-get update failed; its log:" >&2
            cat "$APT_LOG" >&2
            exit 1
        fi
        APT_UPDATED=1
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >>"$APT_LOG" 2>&1; then
        echo "test.sh: ERROR: apt-get install $package failed; its log:" >&2
        cat "$APT_LOG" >&2
        exit 1
    fi
}

if ! has_lib 'libnvrtc\.so\.(11\.2|12|13)[[:space:]]'; then
    apt_install "NVRTC (libnvrtc.so.11.2/.12/.13)" libnvrtc11.2
    has_lib 'libnvrtc\.so\.(11\.2|12|13)[[:space:]]' || { echo "test.sh: ERROR: libnvrtc still not found after install" >&2; exit 1; }
fi
if ! has_lib 'libopenblas\.so\.0[[:space:]]'; then
    apt_install "OpenBLAS (libopenblas.so.0)" libopenblas0-pthread
    has_lib 'libopenblas\.so\.0[[:space:]]' || { echo "test.sh: ERROR: libopenblas.so.0 still not found after install" >&2; exit 1; }
fi
if ! command -v mpirun >/dev/null 2>&1 || ! has_lib 'libmpi\.so\.40[[:space:]]'; then   # the MPI ring tests run ranks under mpirun
    apt_install "Open MPI (mpirun, libmpi.so.40)" openmpi-bin
    apt_install "Open MPI development files" libopenmpi-dev
    { command -v mpirun >/dev/null 2>&1 && has_lib 'libmpi\.so\.40[[:space:]]'; } || { echo "test.sh: ERROR: mpirun or libmpi.so.40 still not found after install" >&2; exit 1; }
fi
if ! command -v python3 >/dev/null 2>&1; then   # reads the test results and the package
    apt_install "python3" python3
fi

# ---------------------------------------------------------------- 2. test projects
RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/kerneldsl-tests.XXXXXX")"

echo "test.sh: dotnet test KernelDsl.sln -c Release"
test_rc=0
dotnet test KernelDsl.sln -c Release --nologo \
    --logger "console;verbosity=minimal" \
    --logger "trx" \
    --results-directory "$RESULTS" \
    --blame-hang-timeout 10m --blame-hang-dump-type none \
    || test_rc=$?

# ---------------------------------------------------------------- 3. package smoke test
echo
echo "test.sh: package smoke test (scripts/pack-smoke.sh)"
smoke_rc=0
bash "$ROOT/scripts/pack-smoke.sh" || smoke_rc=$?

# ---------------------------------------------------------------- 4. summary
echo
python3 - "$RESULTS" "$test_rc" "$smoke_rc" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET

results_dir, test_rc, smoke_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
print("Per test project:")
trx_files = sorted(glob.glob(os.path.join(results_dir, "**", "*.trx"), recursive=True))
for trx in trx_files:
    root = ET.parse(trx).getroot()
    assemblies = {os.path.basename(m.get("codeBase", "")) for m in root.iterfind(".//t:TestDefinitions/t:UnitTest/t:TestMethod", ns)}
    name = ", ".join(sorted(a for a in assemblies if a)) or os.path.basename(trx)
    p = f = s = 0
    details = []
    for r in root.iterfind(".//t:Results/t:UnitTestResult", ns):
        outcome = r.get("outcome", "")
        test = r.get("testName", "?")
        if outcome == "Passed":
            p += 1
        elif outcome in ("NotExecuted", "Inconclusive", "Pending", "Disconnected", "Warning"):
            s += 1
            texts = [r.find(path, ns) for path in ("t:Output/t:ErrorInfo/t:Message", "t:Output/t:StdOut")]
            why = next((t.text.strip() for t in texts if t is not None and t.text and t.text.strip()), "no reason given")
            details.append(f"    skipped: {test}: {why.splitlines()[0]}")
        else:
            f += 1
            details.append(f"    FAILED:  {test} ({outcome})")
    print(f"  {name}: {p} passed, {f} failed, {s} skipped")
    for line in details:
        print(line)
    passed += p; failed += f; skipped += s
if not trx_files:
    print("  (no test results were written)")
if test_rc != 0 and failed == 0:
    print(f"  dotnet test exited with code {test_rc} without a failed test (build error or crashed test host): counted as 1 failure")
    failed += 1
print(f"  package smoke test: {'passed' if smoke_rc == 0 else 'FAILED'}")
if smoke_rc == 0:
    passed += 1
else:
    failed += 1
print()
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
