#!/usr/bin/env bash
# The main job (README): builds and runs every sample on this machine — the GEMM kernels on the CPU
# fallback, then a 4-rank ring attention on the CPU — each checked against a float64 reference.
# Exits non-zero if any sample's check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
status=0
for sample in GemmSample RingAttentionSample; do
    echo "=== samples/$sample"
    dotnet run -c Release --project "samples/$sample" || status=1
    echo
done
exit $status
