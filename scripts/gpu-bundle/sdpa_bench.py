#!/usr/bin/env python3
#===- sdpa_bench.py - PyTorch's attention on the benchmark shapes ----------===#
#
# Usage: sdpa_bench.py SHAPES OUT.json
#
# SHAPES holds one "B H L D causal" per line. Times
# torch.nn.functional.scaled_dot_product_attention in bf16 on [B, H, L, D]
# tensors with each of the flash and cuDNN backends that this PyTorch has,
# by CUDA events around 10 calls after 3 warm-ups, and writes one JSON
# object per shape and backend: ms per call and TFLOP/s by FlashAttention's
# count 4*B*H*L^2*D, halved when causal (the same count as ring-run).
#
#===----------------------------------------------------------------------===#
import json
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def main():
    shapes = [tuple(int(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
    backends = [(n, getattr(SDPBackend, a)) for n, a in
                (("flash", "FLASH_ATTENTION"), ("cudnn", "CUDNN_ATTENTION"))
                if hasattr(SDPBackend, a)]
    rows = []
    print(f"sdpa: torch {torch.__version__}, {torch.cuda.get_device_name()}, "
          f"backends {[n for n, _ in backends]}", flush=True)
    for b, h, L, d, causal in shapes:
        gen = torch.Generator(device="cuda").manual_seed(0)
        q, k, v = (torch.rand(b, h, L, d, device="cuda", dtype=torch.bfloat16,
                              generator=gen) * 2 - 1 for _ in range(3))
        flops = 4.0 * b * h * L * L * d / (2 if causal else 1)
        for name, backend in backends:
            row = {"B": b, "H": h, "L": L, "D": d, "causal": causal, "backend": name}
            try:
                with sdpa_kernel([backend]):
                    for _ in range(3):
                        F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal))
                    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    for _ in range(10):
                        F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal))
                    stop.record()
                    torch.cuda.synchronize()
                ms = start.elapsed_time(stop) / 10
                row.update(ms=ms, tflops=flops / ms / 1e9)
            except Exception as e:  # a backend that rejects a shape
                row["error"] = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
            rows.append(row)
            print("sdpa:", json.dumps(row), flush=True)
            with open(sys.argv[2], "w") as f:  # partial results survive a timeout
                json.dump(rows, f, indent=1)
        del q, k, v


if __name__ == "__main__":
    main()
