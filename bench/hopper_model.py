#!/usr/bin/env python3
"""Static performance model of the sm_90a wgmma attention kernel on an H100
SXM (bench/NOTES.md, "Hopper kernel (wgmma + TMA)").

Per CTA and per K/V tile of BN keys (two consumer warpgroups x 64 query
rows), in SM clocks at the clock where the 989.4 TFLOP/s dense bf16 peak is
specified (132 SMs x 1.83 GHz x 4096 FLOP/clk/SM):

  tensor   C_tc  = 2 WG x 2 GEMMs x 2*64*BN*d / 4096 = BN*d/8
           (one wgmma m64nNk16 holds the SM's tensor cores N/2 clocks)
  MUFU     C_mu  = ex2 per tile / 16          (16 ex2/clk/SM)
  issue    C_is  = warp instructions per tile / 4   (1/clk per SMSP)
  one warpgroup's softmax phase, its warps alone on their SMSPs:
           S_wg  = max(I_warp, ex2/2/16) + L  (I_warp: instructions of one
           consumer warp per tile, L: latency of its dependent chain)
  one warpgroup's GEMMs: G_wg = C_tc/2

Schedules:
  lockstep (no ping-pong; both consumers wait on the same K tile, issue
  their GEMMs together and then do their softmax together):
           T = C_tc/eta + max(2*I_warp, C_mu) + L
  ping-pong (named barriers alternate the consumers at the tensor cores):
           T = max(C_tc/eta, G_wg/eta + S_wg, C_is, C_mu)

  TFLOP/s = 989.4 * (C_tc / T) * q_eff

eta (the tensor pipe's sustained fraction of peak while busy: clock under
HGMMA load and the drain at each wgmma.wait_group 0) and L are assumptions,
stated as such in NOTES.md; q_eff is the share of work outside the K/V loop
(prologue, epilogue) and, for causal, of the masked half of diagonal tiles
and the tail of unequal CTAs. The instruction and ex2 counts per tile are the
emulator's (--profile of ring-gpu-emu-block; NOTES.md gives the commands).
"""

import sys

PEAK = 989.4  # TFLOP/s, dense bf16, H100 SXM
ETA = 0.80    # assumption: sustained tensor-pipe fraction while busy
LAT = 200     # assumption: clocks of one softmax phase's dependent chain
SEQ = 8192    # sequence length of the prediction (tiles per CTA)

# d: (BN, warp instructions per CTA tile, ex2 per CTA tile), measured with
# the emulator (8 minus 4 K/V tiles, divided by 4; non-causal, full tiles).
MEASURED = {
    64: (128, 3836, 16896),
    80: (128, 3920, 16896),
    96: (128, 4000, 16896),
    128: (128, 4160, 16896),
    192: (96, 3739, 12800),
    256: (64, 3336, 8704),
}


def predict(d, causal, pingpong):
    bn, instr, ex2 = MEASURED[d]
    c_tc = bn * d / 8
    c_mu = ex2 / 16
    i_warp = instr / 8
    c_is = instr / 4
    s_wg = max(i_warp, ex2 / 2 / 16) + LAT
    if pingpong:
        t = max(c_tc / ETA, c_tc / 2 / ETA + s_wg, c_is, c_mu)
    else:
        t = c_tc / ETA + max(2 * i_warp, c_mu) + LAT
    tiles = SEQ / bn
    # Prologue (Q load, barrier setup) and epilogue (O/LSE stores) taken as
    # one tile's time per CTA.
    q_eff = tiles / (tiles + 1)
    if causal:
        # Diagonal tiles are computed whole (half of them masked): a CTA of
        # 128 rows visits (i + 1) * 128 / BN tiles for i + 1/2 useful ones;
        # plus a scheduling tail of unequal CTAs, taken as 5 %.
        qt = SEQ // 128
        useful = sum(i + 0.5 for i in range(qt))
        visited = sum((i + 1) * 128 / bn for i in range(qt)) * bn / 128
        q_eff *= useful / visited * 0.95
    return PEAK * c_tc / t * q_eff, dict(c_tc=c_tc, c_mu=c_mu, c_is=c_is,
                                         s_wg=s_wg, t=t)


def main():
    print("| d | BN | C_tc | C_mufu | C_issue | S_wg | lockstep non-causal |"
          " ping-pong non-causal | ping-pong causal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in sorted(MEASURED):
        lock, _ = predict(d, False, False)
        pp, x = predict(d, False, True)
        ppc, _ = predict(d, True, True)
        print(f"| {d} | {MEASURED[d][0]} | {x['c_tc']:.0f} | {x['c_mu']:.0f} "
              f"| {x['c_is']:.0f} | {x['s_wg']:.0f} | {lock:.0f} | {pp:.0f} "
              f"| {ppc:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
