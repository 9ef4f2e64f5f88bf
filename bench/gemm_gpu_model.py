#!/usr/bin/env python3
#===- bench/gemm_gpu_model.py - H100 model of the layer's projection GEMMs ===#
#
# Usage: python3 bench/gemm_gpu_model.py
#
# A static model (never a measurement) of the whole layer's projection GEMMs
# (codegen/gpu/GemmKernel.cpp) on one H100 SXM, per rank and call, for the
# papers' layers (examples/*_layer.mlir), in three forms: the mma.sync GEMM
# (128x128x32 CTA tile), the first wgmma form (128x128x64, 2 CTAs an SM)
# and the wgmma GEMM as built (128x256x64, 1 CTA an SM). Per CTA and
# 64-deep K tile it takes the largest of
#   - tensor clocks: 2*BM*BN*64 FLOP at 4096 dense bf16 FLOP/clk/SM (wgmma;
#     mma.sync at half that, the H100 rate of the legacy path),
#   - issue clocks: the emulator's warp instructions per K tile (bench/NOTES.md
#     "wgmma projection GEMMs", fitted from two ring-run --profile runs) at 4
#     per clock per SM,
#   - L2 clocks: the A and B tile bytes at an assumed 5.5 TB/s of L2->SM
#     bandwidth shared by 132 SMs,
# that is, copies, tensor work and issue overlap perfectly (an upper bound);
# then adds the epilogue's issue, rounds the CTAs up to whole waves, and
# reports the time and TFLOP/s. HBM traffic (about 0.44 GB a call for the
# first layer with W resident in L2, bench/NOTES.md) is not the bound.
#
#===----------------------------------------------------------------------===#
import math

SMS, CLK = 132, 1.83e9           # H100 SXM, boost clock
TC = 4096                         # dense bf16 FLOP/clk/SM (wgmma): 989 TFLOP/s
L2_BPS = 5.5e12                   # assumed L2->SM bandwidth (bytes/s)

# name: (BM, BN, tensor FLOP/clk/SM, warp instructions per CTA K tile of 64,
#        per-warp epilogue instructions, CTAs per SM)
FORMS = {
    "mma.sync 128x128x32": (128, 128, TC / 2, 8 * 204, 863, 1),
    "wgmma 128x128x64": (128, 128, TC, 8 * 126, 837, 2),
    "wgmma 128x256x64 (built)": (128, 256, TC, 8 * 168, 1510, 1),
}

# Per rank: (rows M, [(N, K) of each GEMM launch]); N of the fused QKV
# launch is the sum of its three column ranges, tiled separately.
LAYERS = {
    "Ring Attention layer (Ll 6250, d_model 4096, 32x128 heads)":
        (6250, [([4096, 4096, 4096], 4096), ([4096], 4096)]),
    "two-level layer (Ll 10000, d_model 4096, 8 heads x 32 dims a rank)":
        (10000, [([256, 256, 256], 4096), ([4096], 256)]),
}


def model(form, m, gemms):
    bm, bn, tc, instr, epi, ctas_sm = FORMS[form]
    flops = t_total = l2_bytes = 0.0
    for ns, k in gemms:
        tiles_n = sum(math.ceil(n / bn) for n in ns)
        ctas = math.ceil(m / bm) * tiles_n
        ktiles = math.ceil(k / 64)
        flops += 2 * m * sum(ns) * k
        tile_bytes = (bm + bn) * 64 * 2
        l2_bytes += ctas * ktiles * tile_bytes
        # Clocks of one CTA's K tile when ctas_sm CTAs share the SM.
        per_tile = max(2 * bm * bn * 64 / tc * ctas_sm, instr / 4 * ctas_sm,
                       tile_bytes / (L2_BPS / SMS / CLK) * ctas_sm)
        per_cta = ktiles * per_tile + 8 * epi / 4
        waves = math.ceil(ctas / (SMS * ctas_sm))
        t_total += waves * per_cta / CLK
    return flops, t_total, l2_bytes


for layer, (m, gemms) in LAYERS.items():
    print(layer)
    for form in FORMS:
        flops, t, l2 = model(form, m, gemms)
        print(f"  {form:26s} {flops / 1e9:7.1f} GFLOP  L2->SM {l2 / 1e9:6.2f} GB"
              f"  {t * 1e3:6.3f} ms  {flops / t / 1e12:5.0f} TFLOP/s")
