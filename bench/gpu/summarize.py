#!/usr/bin/env python3
"""Reads the JSON files of one GPU run (compile.json, check.json, time.json, torch.json in a folder, default $OUT)
and prints the figures a reader wants at the end of the log: check totals, each GEMM against cuBLAS and torch.matmul,
and each attention kernel against PyTorch's SDPA at the same shape. Also writes them to <folder>/summary.md."""
import json
import os
import sys


def load(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"status": f"unreadable: {e}"}


def fmt(value, spec="{:.1f}"):
    return "n/a" if value is None else spec.format(value)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OUT", ".")
    compile_, check, timing, torch_ = (load(folder, n) for n in ("compile.json", "check.json", "time.json", "torch.json"))
    lines = ["# KernelDsl GPU run summary", ""]
    env = (timing or check or compile_ or {}).get("environment", {})
    lines.append(f"device: {env.get('device', env.get('device_unavailable', 'n/a'))}, driver CUDA {env.get('driver_cuda', 'n/a')}, "
                 f"NVRTC {env.get('nvrtc', 'n/a')}, cuBLAS {(timing or {}).get('cublas', 'n/a')}, "
                 f"torch {(torch_ or {}).get('torch', 'n/a')}; date {(timing or check or {}).get('date_utc', 'n/a')}")
    lines.append("")
    for name, data in (("compile-only (NVRTC, ptxas -v)", compile_), ("check (GPU vs float64)", check)):
        if data is None:
            lines.append(f"- {name}: not run")
        elif "passed" in data:
            lines.append(f"- {name}: {data['passed']} passed, {data['failed']} failed" + (f" (seed {data['seed']})" if "seed" in data else ""))
        else:
            lines.append(f"- {name}: {data.get('status', 'incomplete')} {data.get('reason', '')}")
    if check and "gemm" in check:
        bad = [r for r in check["gemm"] + check.get("attention", []) + check.get("attention_backward", []) if not r.get("passed")]
        for r in bad[:20]:
            shape = f"{r.get('m')}×{r.get('n')}×{r.get('k')}" if "m" in r else f"h{r.get('heads')} S{r.get('sequence')}"
            if "dq_rel_error" in r:
                error = " / ".join(fmt(r.get(k), '{:.2e}') for k in ("dq_rel_error", "dk_rel_error", "dv_rel_error")) + " (dQ / dK / dV)"
            else:
                error = fmt(r.get("rel_error", r.get("o_rel_error")), '{:.2e}')
            lines.append(f"  - FAIL {r['kernel']} {shape}: rel. error {error}, NaN elements {r.get('nan_elements')} {r.get('error', '')}".rstrip())
    if timing and "cublas_layout_checks" in timing:
        ok = all(r["passed"] for r in timing["cublas_layout_checks"])
        lines.append(f"- cuBLAS layout checks: {'all passed' if ok else 'FAILED (ratios withheld for those layouts)'}")
    lines.append("")

    if timing and timing.get("gemm"):
        torch_gemm = {(g["dtype"], g["m"]): g["tflops"] for g in (torch_ or {}).get("gemm", [])}
        lines.append("| GEMM kernel | in>out layout | m=n=k | ours TFLOP/s | cuBLAS TFLOP/s | ours/cuBLAS | torch.matmul (16-bit out) | spread |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in timing["gemm"]:
            dtype = {"F16": "fp16", "BF16": "bf16"}.get(r["input"])
            peer_torch = torch_gemm.get((dtype, r["m"])) if r["layout"] == "TN" else None
            t = r.get("ours") or {}
            spread = (t.get("q3_ms") - t.get("q1_ms")) / t["median_ms"] * 100 if t.get("median_ms") else None
            lines.append(f"| {r['kernel']}{' (fused epilogue)' if r['fused_epilogue'] else ''} | {r['input']}>{r['output']} {r['layout']} | {r['m']} | "
                         f"{fmt(r.get('ours_tflops'))} | {fmt(r.get('cublas_tflops'))} | {fmt(r.get('ratio_ours_over_cublas'), '{:.2f}')} | "
                         f"{fmt(peer_torch)} | ±{fmt(spread)}% |")
        lines.append("")
        best = {}
        for r in timing["gemm"]:
            if r["layout"] == "TN" and not r["fused_epilogue"] and r["input"] != "F32" and r.get("ours_tflops"):
                key = (r["input"], r["m"])
                if key not in best or r["ours_tflops"] > best[key]["ours_tflops"]:
                    best[key] = r
        for (dtype, size), r in sorted(best.items()):
            lines.append(f"- best {dtype} TN {size}³: {r['kernel']} {fmt(r['ours_tflops'])} TFLOP/s = "
                         f"{fmt(r.get('ratio_ours_over_cublas'), '{:.2f}')} × cuBLAS ({fmt(r.get('cublas_tflops'))}); issue 3 target ≥ 0.70 at 8192³")
        lines.append("")

    if timing and timing.get("attention"):
        sdpa = {}
        for a in (torch_ or {}).get("attention", []):
            if "tflops" in a:
                sdpa[(a["backend"], a.get("pass", "forward"), a["sequence"], a["causal"], a["heads"])] = a["tflops"]
        lines.append("| attention kernel | pass | heads × S × d | mask | ours TFLOP/s | SDPA flash | ours/flash | SDPA cuDNN |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in timing["attention"]:
            key = (r.get("pass", "forward"), r["sequence"], r["causal"], r["heads"])
            flash, cudnn = sdpa.get(("flash",) + key), sdpa.get(("cudnn",) + key)
            ratio = r["tflops"] / flash if flash and r.get("tflops") else None
            lines.append(f"| {r['kernel']} | {key[0]} | {r['heads']}×{r['sequence']}×{r['head_dim']} | {'causal' if r['causal'] else 'full'} | "
                         f"{fmt(r.get('tflops'))} | {fmt(flash)} | {fmt(ratio, '{:.2f}')} | {fmt(cudnn)} |")
        lines.append("")

    text = "\n".join(lines)
    print(text)
    try:
        with open(os.path.join(folder, "summary.md"), "w") as f:
            f.write(text + "\n")
    except OSError as e:
        print(f"summarize.py: could not write summary.md: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
