#!/usr/bin/python3
"""torch_attention.py L D DTYPE CAUSAL ITERS - the unfused PyTorch attention
a CPU user would write (benchmark, not a test): S = (Q·scale)·Kᵀ, the causal
mask by masked_fill, softmax, O = P·V, one thread, B = H = 1, in DTYPE
(bfloat16 or float32; bf16 matmuls go to oneDNN's AVX512_BF16 kernels
where the CPU has them). Prints one line:
  torch L D DTYPE CAUSAL best_ms
(the best of ITERS timed runs after one warm-up). Needs Debian's
python3-torch (run with /usr/bin/python3); exits 3 when torch is missing.
"""
import sys
import time

try:
    import torch
except ImportError:
    sys.exit(3)

L, D = int(sys.argv[1]), int(sys.argv[2])
name, causal, iters = sys.argv[3], sys.argv[4] == "1", int(sys.argv[5])
dtype = {"bf16": torch.bfloat16, "f32": torch.float32}[name]
torch.set_num_threads(1)
gen = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(1, L, D, generator=gen).to(dtype) for _ in range(3))
scale = D ** -0.5
mask = torch.ones(L, L, dtype=torch.bool).triu_(1) if causal else None


def attention():
    s = torch.matmul(q * scale, k.transpose(1, 2))
    if mask is not None:
        s.masked_fill_(mask, float("-inf"))
    return torch.matmul(torch.softmax(s, dim=-1), v)


attention()
best = float("inf")
for _ in range(iters):
    t = time.perf_counter()
    attention()
    best = min(best, time.perf_counter() - t)
print(f"torch {L} {D} {name} {int(causal)} {best * 1e3:.3f}")
