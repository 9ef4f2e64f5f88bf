#!/usr/bin/env python3
"""Static model of the GPU backward kernels (mma.sync, sm_80 / sm_90a) of
ring.block_attention_backward (bench/NOTES.md, "GPU backward").

Counts per non-causal block of L x L scores, one head, from the emulator
(`ring-run DIR --check --device=emu --profile` on a grad=1 artifact with
ring=1, heads=1, seq=512: the counters after the backward minus those after
the forward; NOTES.md lists the raw lines). They cover every kernel of the
backward entry (D = rowsum(dO o O), zeroing, dQ, dK/dV, conversions):

  mma.sync m16n8k16 (4096 FLOP each): 14 L^2 D / 4096 (S and dP twice,
    dQ, dK, dV: 7 GEMMs; FA2's fused kernel with atomic dQ does 5)
  ex2: 2 L^2 (P recomputed in both kernels)
  warp instructions: INSTR[D] * L^2

Per SM, in clocks:
  tensor  C_tc = FLOP / TC_RATE     (dense bf16 FLOP/clk/SM of mma.sync)
  issue   C_is = warp instructions / 4
  MUFU    C_mu = ex2 / 16
  T = max(C_tc / ETA, C_is, C_mu)
and TFLOP/s are counted FlashAttention's way: 2.5 x the forward's 4 L^2 D,
i.e. 10 L^2 D per block, over T. ETA (the sustained fraction of the mma.sync
rate while busy) and H100's mma.sync rate are assumptions, not measurements.
Causal blocks run about half the tiles (tile granularity aside) at the same
rates, so their TFLOP/s under the halved count are the same to first order.
"""

# Warp instructions per score element of the whole backward entry, from the
# emulator at L = 512 (NOTES.md): 437680 / 512^2 and 704432 / 512^2.
INSTR = {64: 437680 / 512**2, 128: 704432 / 512**2}
# The same for the sm_90a wgmma backward (NOTES.md, "wgmma backward"):
# 323104 / 512^2 and 524600 / 512^2.
INSTR_WGMMA = {64: 323104 / 512**2, 128: 524600 / 512**2}
ETA = 0.6  # assumption

CHIPS = {
    # name: (SMs, GHz, mma.sync dense bf16 FLOP/clk/SM, peak TFLOP/s quoted)
    "A100-SXM (sm_80)": (108, 1.41, 2048, 312),
    # Assumption: mma.sync on Hopper sustains 2/3 of wgmma's 4096 FLOP/clk/SM.
    "H100-SXM (sm_90a, mma.sync)": (132, 1.83, 4096 * 2 / 3, 989),
}


def model(d, L=4096):
    elems = float(L) * L
    flops_exec = 14 * elems * d
    flops_counted = 10 * elems * d
    rows = []
    for chip, (sms, ghz, rate, peak) in CHIPS.items():
        c_tc = flops_exec / rate
        c_is = INSTR[d] * elems / 4
        c_mu = 2 * elems / 16
        t_clk = max(c_tc / ETA, c_is, c_mu)
        bound = ("tensor" if t_clk == c_tc / ETA else
                 "issue" if t_clk == c_is else "MUFU")
        seconds = t_clk / (sms * ghz * 1e9)
        tflops = flops_counted / seconds / 1e12
        rows.append((chip, d, c_tc, c_is, c_mu, bound, tflops, peak))
    return rows


def model_wgmma(d, L=4096):
    """The wgmma backward on H100 (sm_90a): wgmma's dense bf16 rate, 4096
    FLOP/clk/SM (989 TFLOP/s at 1.83 GHz), the same ETA. Two bounds, since
    the kernels are not warp-specialized (every GEMM ends in wgmma.wait_group
    0, and both warpgroups of a CTA meet at the tile barrier): 'overlap'
    T = max(C_tc / ETA, C_is, C_mu) (other CTAs' / warpgroups' work fills
    the tensor pipe) and 'serial' T = C_tc / ETA + C_is (nothing overlaps;
    one CTA per SM by registers)."""
    sms, ghz, rate, peak = 132, 1.83, 4096, 989
    elems = float(L) * L
    c_tc = 14 * elems * d / rate
    c_is = INSTR_WGMMA[d] * elems / 4
    c_mu = 2 * elems / 16
    out = {}
    for name, t_clk in (("overlap", max(c_tc / ETA, c_is, c_mu)),
                        ("serial", c_tc / ETA + c_is)):
        seconds = t_clk / (sms * ghz * 1e9)
        out[name] = (10 * elems * d / seconds / 1e12, seconds * 1e3)
    return c_tc, c_is, c_mu, out, peak


def main():
    print("chip | D | tensor clk | issue clk | MUFU clk | bound | "
          "model TFLOP/s (2.5x fwd convention) | % of quoted peak")
    for d in sorted(INSTR):
        for chip, d_, c_tc, c_is, c_mu, bound, tf, peak in model(d):
            print(f"{chip} | {d_} | {c_tc:.3g} | {c_is:.3g} | {c_mu:.3g} | "
                  f"{bound} | {tf:.0f} | {100 * tf / peak:.0f} %")


    print()
    print("H100 wgmma backward (sm_90a), one head, L = 4096 | D | tensor clk | "
          "issue clk | MUFU clk | overlap TFLOP/s (ms) | serial TFLOP/s (ms)")
    for d in sorted(INSTR_WGMMA):
        c_tc, c_is, c_mu, out, peak = model_wgmma(d)
        o, s_ = out["overlap"], out["serial"]
        print(f"H100-SXM (sm_90a, wgmma) | {d} | {c_tc:.3g} | {c_is:.3g} | "
              f"{c_mu:.3g} | {o[0]:.0f} ({o[1]:.3f} ms) | "
              f"{s_[0]:.0f} ({s_[1]:.3f} ms)")


if __name__ == "__main__":
    main()
