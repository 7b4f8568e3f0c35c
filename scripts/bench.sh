#!/usr/bin/env bash
# The benchmarks (README), from any directory:
#   bash scripts/bench.sh          quick subset of every suite (a few minutes): prints the table of ratios ours/peer
#   bash scripts/bench.sh full     every case, two rounds (about 15 minutes): also rewrites the generated part of
#                                  docs/BENCHMARKS.md and the plots in docs/plots/
# Further arguments go to BenchmarkDotNet, e.g. `bash scripts/bench.sh quick --filter '*Attention*'`.
# Installs OpenBLAS (the GEMM and naive-attention peer) when it is missing; ONNX Runtime comes from NuGet.
# Run it on a quiet machine: the figures are ratios measured in one process, but other load still skews them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

DEPS_CALLER=bench.sh
# shellcheck source=native-deps.sh
source "$ROOT/scripts/native-deps.sh"
trap 'rm -f "$APT_LOG"' EXIT
require_openblas

echo "bench.sh: load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
dotnet run -c Release --project bench/KernelDsl.Benchmarks -- "$@"
