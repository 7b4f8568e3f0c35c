#!/usr/bin/env bash
# The test command (README). From any directory:
#   1. installs what the tests need when it is missing (NVRTC, OpenBLAS, Open MPI, a C++ compiler; Debian, as root or
#      via sudo; NVRTC 12.4, nvdisasm and cuobjdump unpacked from Debian trixie into $KERNELDSL_CUDA12_DIR, no root needed),
#   2. runs every test project in KernelDsl.sln (Release), then every GPU test (trait Device=Gpu) a second time
#      on the CPU emulator (KERNELDSL_BACKEND=emulator): the GPU tests' emulator twins,
#   3. runs the package smoke test (scripts/pack-smoke.sh) as one more test,
#   4. ends with one line: "N passed, N failed, N skipped"; exits non-zero if anything failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1

command -v dotnet >/dev/null 2>&1 || { echo "test.sh: ERROR: 'dotnet' not found; install the .NET 10 SDK." >&2; exit 1; }

# ---------------------------------------------------------------- 1. native dependencies
DEPS_CALLER=test.sh
# shellcheck source=native-deps.sh
source "$ROOT/scripts/native-deps.sh"
RESULTS=""
trap 'rm -f "$APT_LOG"; [ -z "$RESULTS" ] || rm -rf "$RESULTS"' EXIT
require_nvrtc
require_cuda12_tools   # NVRTC 12.4 (sm_90a), nvdisasm and cuobjdump for the SASS checks
require_openblas
require_openmpi   # the MPI ring tests run ranks under mpirun
require_cxx       # the emulator compiles kernels with g++ or clang++
require_python    # reads the test results and the package

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

echo
echo "test.sh: the GPU tests again on the emulator (KERNELDSL_BACKEND=emulator, --filter Device=Gpu)"
KERNELDSL_BACKEND=emulator dotnet test tests/KernelDsl.Tests -c Release --nologo --no-build \
    --filter "Device=Gpu" \
    --logger "console;verbosity=minimal" \
    --logger "trx;LogFilePrefix=emulator" \
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
    if os.path.basename(trx).startswith("emulator"):
        name += " (GPU tests on the emulator)"
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
            # The first lines of the message, so that a CI log says why without the .trx file.
            message = r.find("t:Output/t:ErrorInfo/t:Message", ns)
            for line in (message.text or "").strip().splitlines()[:6] if message is not None else []:
                details.append(f"             {line}")
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
