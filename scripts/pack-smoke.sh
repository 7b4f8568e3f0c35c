#!/usr/bin/env bash
# Package smoke test: packs src/KernelDsl into a local feed, then builds and runs a console app
# outside the repository that references only the KernelDsl package (as a user does), declares a
# [Gemm] kernel, runs it on the CPU fallback against a float64 reference and checks its CUDA source.
# Exits 0 when the app's checks pass.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "pack-smoke: FAILED: $*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kerneldsl-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
FEED="$WORK/feed"
APP="$WORK/SmokeApp"

# 1. The package. Build the generator in Release first: the package carries its DLL as an analyzer.
echo "pack-smoke: building the generator and packing src/KernelDsl (Release)"
dotnet build generator/KernelDsl.Generator -c Release --nologo -v quiet >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; fail "generator build failed"; }
[ -f generator/KernelDsl.Generator/bin/Release/netstandard2.0/KernelDsl.Generator.dll ] \
    || fail "generator/KernelDsl.Generator/bin/Release/netstandard2.0/KernelDsl.Generator.dll was not built"
dotnet pack src/KernelDsl -c Release -o "$FEED" --nologo -v quiet >"$WORK/pack.log" 2>&1 \
    || { cat "$WORK/pack.log" >&2; fail "dotnet pack src/KernelDsl failed"; }

NUPKG="$(find "$FEED" -maxdepth 1 -name 'KernelDsl.*.nupkg' ! -name '*.snupkg' ! -name '*.symbols.nupkg' | head -n 1)"
[ -n "$NUPKG" ] || fail "no KernelDsl.*.nupkg in $FEED"
VERSION="$(basename "$NUPKG" .nupkg)"
VERSION="${VERSION#KernelDsl.}"
echo "pack-smoke: $(basename "$NUPKG")"

python3 - "$NUPKG" <<'PY' || fail "the package lacks a required file (see above)"
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
required = ["analyzers/dotnet/cs/KernelDsl.Generator.dll", "lib/net10.0/KernelDsl.dll"]
missing = [n for n in required if n not in names]
for n in required:
    print(("  has     " if n in names else "  MISSING ") + n)
sys.exit(1 if missing else 0)
PY

# 2. Never use a stale KernelDsl from the global packages folder (same version, older bits).
GLOBAL_PACKAGES="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
if [ -n "$GLOBAL_PACKAGES" ]; then
    rm -rf "${GLOBAL_PACKAGES%/}/kerneldsl"
fi

# 3. A consumer app outside the repository: the local feed plus this machine's enabled NuGet sources.
mkdir -p "$APP"
(
    cd "$WORK"   # outside the repo, so only user- and machine-level NuGet configs are listed
    dotnet nuget list source --format detailed
) >"$WORK/sources.txt"
python3 - "$WORK/sources.txt" "$FEED" "$APP/nuget.config" <<'PY'
import re, sys
from xml.sax.saxutils import quoteattr
listing, feed, out = sys.argv[1], sys.argv[2], sys.argv[3]
sources, pending = [], None
for line in open(listing, encoding="utf-8"):
    m = re.match(r"\s*\d+\.\s+(.*?)\s+\[(Enabled|Disabled)\]\s*$", line)
    if m:
        pending = (m.group(1), m.group(2) == "Enabled")
        continue
    if pending and line.strip():
        if pending[1]:
            sources.append((pending[0], line.strip()))
        pending = None
lines = ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <packageSources>", "    <clear />",
         f"    <add key=\"kerneldsl-local\" value={quoteattr(feed)} />"]
lines += [f"    <add key={quoteattr(k)} value={quoteattr(v)} />" for k, v in sources]
lines += ["  </packageSources>", "</configuration>", ""]
open(out, "w", encoding="utf-8").write("\n".join(lines))
print("pack-smoke: NuGet sources: local feed" + "".join(", " + k for k, _ in sources))
PY

cat >"$APP/SmokeApp.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <NuGetAudit>false</NuGetAudit>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="KernelDsl" Version="$VERSION" />
  </ItemGroup>
</Project>
XML

cat >"$APP/Kernels.cs" <<'CS'
using KernelDsl;

namespace SmokeApp;

/// <summary>relu(x·Wᵀ + b) with W stored [out, in].</summary>
[Gemm(Element.F32, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true, Activation = Activation.Relu)]
public static partial class Proj;
CS

cat >"$APP/Program.cs" <<'CS'
using KernelDsl;
using SmokeApp;

const int M = 37, N = 29, K = 53, Seed = 12345;
var random = new Random(Seed);
float[] a = Fill(M * K), w = Fill(N * K), bias = Fill(N);
float[] c = new float[M * N];
Array.Fill(c, float.NaN);   // every element must be written

Proj.Run(a, w, c, M, N, K, bias);

double diff = 0, norm = 0;
for (int i = 0; i < M; i++)
{
    for (int j = 0; j < N; j++)
    {
        double sum = bias[j];
        for (int p = 0; p < K; p++)
        {
            sum += (double)a[i * K + p] * w[j * K + p];   // B is stored N×K (TransposeB)
        }
        double expected = Math.Max(sum, 0.0);
        double d = c[i * N + j] - expected;
        diff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
        norm += expected * expected;
    }
}
double error = Math.Sqrt(diff / norm);
bool numericsOk = error <= 1e-5;
bool cudaOk = Proj.CudaSource.Contains(Proj.EntryPoint, StringComparison.Ordinal) && Proj.EntryPoint.Length > 0;

Console.WriteLine($"Proj.Run {M}×{N}×{K} (seed {Seed}): relative error {error:0.00e+00} {(numericsOk ? "ok" : "FAILED (limit 1e-5)")}");
Console.WriteLine($"Proj.CudaSource ({Proj.CudaSource.Length} chars) contains Proj.EntryPoint '{Proj.EntryPoint}': {(cudaOk ? "ok" : "FAILED")}");
Console.WriteLine($"Proj.Info: {Proj.Info}");
return numericsOk && cudaOk ? 0 : 1;

float[] Fill(int count)
{
    var values = new float[count];
    for (int i = 0; i < count; i++)
    {
        values[i] = random.NextSingle() * 2 - 1;
    }
    return values;
}
CS

# 4. Restore, build and run it.
echo "pack-smoke: building a console app that references KernelDsl $VERSION (in $APP)"
dotnet build "$APP" -c Release --nologo -v quiet >"$WORK/app.log" 2>&1 \
    || { cat "$WORK/app.log" >&2; fail "the consumer app did not build"; }
dotnet "$APP/bin/Release/net10.0/SmokeApp.dll" || fail "the consumer app's checks failed"
echo "pack-smoke: passed"
