#!/usr/bin/env bash
# Publishes the GPU bench runner (bench/KernelDsl.GpuRunner) self-contained, trimmed, single-file for linux-x64
# into .runner/ at the repository root (ignored by git), so that a GPU session can carry it to the device machine,
# which has no .NET: the device tool's `run` with carry [".runner"] (docs/GPU_NOTES.md).
#
#   bash bench/gpu/publish.sh            # publish, then smoke-test the binary here (no GPU needed)
#   bash bench/gpu/publish.sh --no-test  # publish only
#
# Trim warnings are errors in this repository (TreatWarningsAsErrors), and TrimmerSingleWarn=false (project file)
# lists each one instead of one line per assembly, so a runtime or generator change that is not trim-safe fails here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

OUTDIR="$ROOT/.runner"
PROJECT="bench/KernelDsl.GpuRunner/KernelDsl.GpuRunner.csproj"

rm -rf "$OUTDIR"
# PublishTrimmed=true, PublishSingleFile=true, TrimmerSingleWarn=false and DebugType=none come from the project file
# whenever a RuntimeIdentifier is given: passed as -p: here they would flow into the netstandard2.0 generator
# reference too, which fails (NETSDK1124: trimming requires .NET Core 3.0 or higher).
dotnet publish "$PROJECT" -c Release -r linux-x64 --self-contained -o "$OUTDIR" --nologo

BIN="$OUTDIR/kerneldsl-gpu"
test -x "$BIN" || { echo "publish.sh: $BIN was not produced" >&2; exit 1; }
echo
echo "publish.sh: $(du -h "$BIN" | cut -f1) $BIN; folder:"
ls -la "$OUTDIR"

if [ "${1:-}" = "--no-test" ]; then
    exit 0
fi

# Smoke test here: the binary starts without the SDK, says "no CUDA device" with exit code 3 on a machine without
# one, and NVRTC loads from inside the single file (one small kernel compiled for sm_80 and sm_90).
echo
echo "publish.sh: smoke test"
set +e
"$BIN" info >/dev/null
info_rc=$?
"$BIN" check --json /dev/null
check_rc=$?
if ldconfig -p 2>/dev/null | grep -Eq 'libnvrtc\.so\.(11\.2|12|13)[[:space:]]'; then
    "$BIN" check --compile-only --filter F16Tn64x32x32 --json /dev/null
    compile_rc=$?
else
    echo "publish.sh: no libnvrtc here; compile-only not smoke-tested"
    compile_rc=0
fi
set -e
echo "publish.sh: info exit $info_rc, check exit $check_rc (3 = no CUDA device; 0 or 1 on a GPU machine), compile-only exit $compile_rc"
if [ "$info_rc" -ne 0 ] || [ "$compile_rc" -ne 0 ] || { [ "$check_rc" -ne 3 ] && [ "$check_rc" -ne 0 ] && [ "$check_rc" -ne 1 ]; }; then
    echo "publish.sh: smoke test FAILED" >&2
    exit 1
fi
echo "publish.sh: ok. On a GPU session: device tool run, command \"bash bench/gpu/run.sh\", carry [\".runner\"]."
