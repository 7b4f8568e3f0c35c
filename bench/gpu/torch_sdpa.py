#!/usr/bin/env python3
"""PyTorch peers for the GPU run (bench/gpu/run.sh): scaled_dot_product_attention and torch.matmul.

Attention: batch 1, 16 heads, d = 128, bf16, S = 4k/8k/16k, causal and not, through the FlashAttention backend
(SDPBackend.FLASH_ATTENTION) and, where this PyTorch has it, cuDNN's (SDPBackend.CUDNN_ATTENTION).
TFLOP/s = 4·S²·d·heads / median time, halved when causal (the same count as the runner's attention figures).
GEMM: torch.matmul(a, b.t()) with a m×k and b n×k ("TN", C = A·Bᵀ, as the runner's TN kernels), fp16 and bf16, at
4096³ and 8192³; TFLOP/s = 2mnk / median. PyTorch returns the 16-bit type (the runner's TN kernels write fp32).

Timing as the runner: warm-up, then samples of back-to-back calls between two CUDA events (enough calls for a sample
to last about 5 ms), median per call of 25 samples. Inputs are uniform in [-1, 1), never zeros.
Writes JSON to --json (default $OUT/torch.json) and prints a table.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch


def measure(fn, samples=25, warmup=3, target_ms=5.0):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    single = max(start.elapsed_time(end), 1e-3)
    inner = int(min(max(math.ceil(target_ms / single), 1), 200))
    per_call = []
    for _ in range(samples):
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        per_call.append(start.elapsed_time(end) / inner)
    per_call.sort()
    q = statistics.quantiles(per_call, n=4, method="inclusive")
    return {"median_ms": statistics.median(per_call), "min_ms": per_call[0], "max_ms": per_call[-1],
            "q1_ms": q[0], "q3_ms": q[2], "samples": samples, "launches_per_sample": inner}


def uniform(shape, dtype, generator):
    return (torch.rand(shape, device="cuda", dtype=torch.float32, generator=generator) * 2 - 1).to(dtype)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=os.path.join(os.environ.get("OUT", "."), "torch.json"))
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--seq", default="4096,8192,16384")
    parser.add_argument("--sizes", default="4096,8192")
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    if not torch.cuda.is_available():
        print("torch_sdpa.py: no CUDA device visible to PyTorch")
        return 3
    from torch.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.functional as F

    generator = torch.Generator(device="cuda").manual_seed(args.seed)
    props = torch.cuda.get_device_properties(0)
    result = {
        "command": "torch_sdpa", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
        "device": props.name, "sms": props.multi_processor_count, "seed": args.seed, "samples": args.samples,
        "allow_fp16_reduced_precision_reduction": torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
        "allow_bf16_reduced_precision_reduction": torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction,
        "attention": [], "gemm": [],
    }
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {result['cudnn']}) on {props.name}, seed {args.seed}")

    backends = [("flash", SDPBackend.FLASH_ATTENTION)]
    if hasattr(SDPBackend, "CUDNN_ATTENTION"):
        backends.append(("cudnn", SDPBackend.CUDNN_ATTENTION))
    heads, d = args.heads, args.head_dim
    for seq in [int(s) for s in args.seq.split(",") if s]:
        q, k, v = (uniform((1, heads, seq, d), torch.bfloat16, generator) for _ in range(3))
        for causal in (False, True):
            flops = 4.0 * seq * seq * d * heads * (0.5 if causal else 1.0)
            for name, backend in backends:
                row = {"backend": name, "pass": "forward", "batch": 1, "heads": heads, "sequence": seq, "head_dim": d,
                       "causal": causal, "dtype": "bf16"}
                try:
                    with sdpa_kernel([backend]):
                        timing = measure(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), args.samples)
                    row.update(timing=timing, tflops=flops / (timing["median_ms"] * 1e-3) / 1e12)
                    print(f"  sdpa {name:5} h{heads} S{seq:<6} d{d} {'causal' if causal else 'full  '} "
                          f"{row['tflops']:7.1f} TFLOP/s ({timing['median_ms']:.3f} ms)")
                except Exception as e:  # a backend this build or GPU does not support
                    row["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
                    print(f"  sdpa {name:5} h{heads} S{seq:<6} {'causal' if causal else 'full  '} not run: {row['error']}")
                result["attention"].append(row)
                # The backward pass alone (FLOPs 2.5x the forward's): gradients of q, k, v for a fixed upstream
                # gradient, the graph kept so that each sample replays only the backward kernels.
                row = {"backend": name, "pass": "backward", "batch": 1, "heads": heads, "sequence": seq, "head_dim": d,
                       "causal": causal, "dtype": "bf16"}
                try:
                    with sdpa_kernel([backend]):
                        qg, kg, vg = (t.detach().requires_grad_() for t in (q, k, v))
                        out = F.scaled_dot_product_attention(qg, kg, vg, is_causal=causal)
                        grad = torch.ones_like(out)
                        timing = measure(lambda: torch.autograd.grad(out, (qg, kg, vg), grad, retain_graph=True), args.samples)
                    row.update(timing=timing, tflops=2.5 * flops / (timing["median_ms"] * 1e-3) / 1e12)
                    print(f"  sdpa {name:5} bwd h{heads} S{seq:<6} d{d} {'causal' if causal else 'full  '} "
                          f"{row['tflops']:7.1f} TFLOP/s ({timing['median_ms']:.3f} ms)")
                    del qg, kg, vg, out, grad
                except Exception as e:
                    row["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
                    print(f"  sdpa {name:5} bwd h{heads} S{seq:<6} {'causal' if causal else 'full  '} not run: {row['error']}")
                result["attention"].append(row)
        del q, k, v
        torch.cuda.empty_cache()

    for size in [int(s) for s in args.sizes.split(",") if s]:
        for dtype_name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
            a = uniform((size, size), dtype, generator)
            b = uniform((size, size), dtype, generator)
            bt = b.t()
            timing = measure(lambda: torch.matmul(a, bt), args.samples)
            tflops = 2.0 * size ** 3 / (timing["median_ms"] * 1e-3) / 1e12
            result["gemm"].append({"op": "matmul(a, b.t())", "layout": "TN", "dtype": dtype_name, "out": dtype_name,
                                   "m": size, "n": size, "k": size, "timing": timing, "tflops": tflops})
            print(f"  matmul {dtype_name} TN {size}³ {tflops:7.1f} TFLOP/s ({timing['median_ms']:.3f} ms)")
            del a, b, bt
        torch.cuda.empty_cache()

    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
