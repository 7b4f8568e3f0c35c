#!/usr/bin/env bash
# The ONE command a GPU session runs. Through the device tool (docs/GPU_NOTES.md):
#     run  command="bash bench/gpu/run.sh"  carry=[".runner"]  timeout_s=600
# after `bash bench/gpu/publish.sh` made .runner/kerneldsl-gpu here (the GPU machine has no .NET and no network).
#
# Steps, each under its own time limit so the whole stays well inside the tool's 10 minutes (typically ~3 min):
#   0. machine: nvidia-smi (name, driver, clocks, power, temperature), CUDA libraries found   (~5 s)
#   1. kerneldsl-gpu check --compile-only --arch 90   NVRTC 13's ptxas report per kernel      (≤ 90 s)
#   2. kerneldsl-gpu check   every kernel on the GPU vs float64, ragged shapes, NaN-poisoned   (≤ 150 s)
#   3. kerneldsl-gpu time    GEMMs vs cuBLAS (same process), attention                         (≤ 150 s)
#   4. python3 bench/gpu/torch_sdpa.py   SDPA (flash, cuDNN) and torch.matmul peers           (≤ 100 s)
#   5. nvidia-smi again, then bench/gpu/summarize.py: the table printed last
# Everything lands in $OUT (at most 8 files come back): run.log, compile.json, check.json, time.json, torch.json,
# summary.md. Exit status: 0 when every step passed; otherwise the first failing step's status.
#
# A later, narrower call: name the steps (compile check time torch) and pass runner options through variables, e.g.
#     CHECK_ARGS="--filter Bf16Tn --seed 1234" bash bench/gpu/run.sh check
#     TIME_ARGS="--sizes 8192 --no-attention" bash bench/gpu/run.sh time torch
# (COMPILE_ARGS, CHECK_ARGS, TIME_ARGS, TORCH_ARGS are appended to that step's command line.)
# Never changes the GPU's settings (clocks, power, persistence, MIG): it only reads them.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-out}"
mkdir -p "$OUT"
export OUT
BIN="$ROOT/.runner/kerneldsl-gpu"
export KERNELDSL_CACHE_DIR="${KERNELDSL_CACHE_DIR:-/tmp/kerneldsl-cache}"
export PYTHONUNBUFFERED=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# First directory (in order) that holds a file matching the glob.
first_dir_with() {
    local pattern="$1" dir
    shift
    for dir in "$@"; do
        if compgen -G "$dir/$pattern" >/dev/null 2>&1; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

STEPS="${*:-compile check time torch}"
wants() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

step_status=0
note_status() {  # note_status NAME RC: keep the first failure
    local name="$1" rc="$2"
    echo "run.sh: $name exited with $rc"
    if [ "$rc" -ne 0 ] && [ "$step_status" -eq 0 ]; then
        step_status="$rc"
    fi
}

main() {
    local start=$SECONDS
    echo "=== KernelDsl GPU run: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), $(uname -r)"
    echo "=== git: $(git rev-parse --short HEAD 2>/dev/null || echo n/a) (+ working tree as carried); steps: $STEPS"
    if ! [ -f "$BIN" ]; then
        echo "run.sh: $BIN is missing: run 'bash bench/gpu/publish.sh' here first and carry [\".runner\"]" >&2
        return 6
    fi
    chmod +x "$BIN" 2>/dev/null || true

    echo
    echo "=== 0. machine"
    nvidia-smi -L || true
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu,utilization.gpu,persistence_mode,mig.mode.current \
        --format=csv || true
    command -v nvcc >/dev/null && nvcc --version | tail -n 2
    python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null || echo "python3 torch: not importable"

    # NVRTC 13 and cuBLAS 13: the toolkit's lib folders first (they match nvcc and the driver), then the Python
    # wheels' (nvidia/cu13/lib, nvidia/*/lib), then the loader's own paths.
    local -a dirs=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib)
    for d in /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/x86_64-linux/lib; do [ -d "$d" ] && dirs+=("$d"); done
    while IFS= read -r d; do [ -n "$d" ] && dirs+=("$d"); done < <(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = list(site.getsitepackages()) + [site.getusersitepackages()]
seen = set()
for root in roots:
    for d in sorted(glob.glob(os.path.join(root, "nvidia", "cu13", "lib")) + glob.glob(os.path.join(root, "nvidia", "*", "lib"))):
        if d not in seen:
            seen.add(d)
            print(d)
PY
)
    dirs+=(/usr/lib/x86_64-linux-gnu /usr/lib64 /lib/x86_64-linux-gnu)
    local nvrtc_dir cublas_dir
    nvrtc_dir="$(first_dir_with 'libnvrtc.so.13*' "${dirs[@]}" || first_dir_with 'libnvrtc.so.12*' "${dirs[@]}" || true)"
    cublas_dir="$(first_dir_with 'libcublas.so.13*' "${dirs[@]}" || first_dir_with 'libcublas.so.12*' "${dirs[@]}" || true)"
    echo "NVRTC folder: ${nvrtc_dir:-not found}; cuBLAS folder: ${cublas_dir:-not found}"
    local ld="${LD_LIBRARY_PATH:-}"
    [ -n "$cublas_dir" ] && ld="$cublas_dir${ld:+:$ld}"
    [ -n "$nvrtc_dir" ] && ld="$nvrtc_dir${ld:+:$ld}"
    export LD_LIBRARY_PATH="$ld"
    if [ -n "$cublas_dir" ]; then
        local lib
        lib="$(ls "$cublas_dir"/libcublas.so.13 2>/dev/null || ls "$cublas_dir"/libcublas.so.1[23]* 2>/dev/null | head -n 1)"
        [ -n "$lib" ] && export KERNELDSL_CUBLAS="$lib"
    fi
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    echo "KERNELDSL_CUBLAS=${KERNELDSL_CUBLAS:-unset}"
    "$BIN" info | head -n 6

    # Word splitting of the *_ARGS variables is intended (options and values).
    # shellcheck disable=SC2086
    if wants compile; then
        echo
        echo "=== 1. compile-only, sm_90 (NVRTC of this machine)   [$((SECONDS - start)) s]"
        timeout -k 5 90 "$BIN" check --compile-only --arch 90 --json "$OUT/compile.json" ${COMPILE_ARGS:-}
        note_status "compile-only" $?
    fi
    # shellcheck disable=SC2086
    if wants check; then
        echo
        echo "=== 2. check on the GPU   [$((SECONDS - start)) s]"
        timeout -k 5 150 "$BIN" check --json "$OUT/check.json" ${CHECK_ARGS:-}
        note_status "check" $?
    fi
    # shellcheck disable=SC2086
    if wants time; then
        echo
        echo "=== 3. time vs cuBLAS   [$((SECONDS - start)) s]"
        timeout -k 5 150 "$BIN" time --json "$OUT/time.json" ${TIME_ARGS:-}
        note_status "time" $?
    fi
    # shellcheck disable=SC2086
    if wants torch; then
        echo
        echo "=== 4. PyTorch peers (SDPA, matmul)   [$((SECONDS - start)) s]"
        timeout -k 5 100 python3 "$ROOT/bench/gpu/torch_sdpa.py" --json "$OUT/torch.json" ${TORCH_ARGS:-}
        note_status "torch_sdpa.py" $?
    fi

    echo
    echo "=== 5. after   [$((SECONDS - start)) s]"
    nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv || true
    echo
    python3 "$ROOT/bench/gpu/summarize.py" "$OUT" || true
    echo
    echo "run.sh: done in $((SECONDS - start)) s; first failing status: $step_status; files in \$OUT: $(ls "$OUT" | tr '\n' ' ')"
    return "$step_status"
}

main 2>&1 | tee "$OUT/run.log"
exit "${PIPESTATUS[0]}"
