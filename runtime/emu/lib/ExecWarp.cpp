//===- ExecWarp.cpp - shfl.sync, vote.sync, mma.sync -------------*- C++ -*-===//
//
// This file implements the warp-wide instructions. Sources of all lanes are
// read before any destination is written. mma.sync m16n8k16 gathers the
// A/B/C fragments of the 32 lanes with the PTX ISA layouts, multiplies in
// f32 precision and scatters D with the accumulator layout.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"
#include "FloatBits.h"

#include <cmath>

using namespace ringrt::emu;

static void shfl(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  // Only executing lanes supply values: a source lane outside `mask` is an
  // error below, and an inactive lane's register may be unwritten.
  uint64_t src[kWarpSize] = {};
  forLanes(mask, [&](unsigned l) { src[l] = x.read(I.ops[1], w, l); });
  forLanes(mask, [&](unsigned lane) {
    int32_t b = int32_t(x.read(I.ops[2], w, lane) & 0x1f);
    uint32_t c = uint32_t(x.read(I.ops[3], w, lane));
    int32_t cval = int32_t(c & 0x1f), segmask = int32_t((c >> 8) & 0x1f);
    int32_t l = int32_t(lane);
    int32_t maxLane = (l & segmask) | (cval & ~segmask);
    int32_t minLane = l & segmask;
    int32_t j = 0;
    bool pval = false;
    switch (ShflMode(I.mode)) {
    case ShflMode::Up: j = l - b; pval = j >= maxLane; break;
    case ShflMode::Down: j = l + b; pval = j <= maxLane; break;
    case ShflMode::Bfly: j = l ^ b; pval = j <= maxLane; break;
    case ShflMode::Idx: j = minLane | (b & ~segmask); pval = j <= maxLane; break;
    }
    if (!pval)
      j = l;
    uint32_t members = uint32_t(x.read(I.ops[4], w, lane));
    if (!(members & (1u << j)) || !(mask & (1u << j))) {
      x.fault(I, w, lane, "shfl.sync source lane " + std::to_string(j) +
                              " is not in the member mask or does not "
                              "execute the shfl");
      return;
    }
    x.write(I.ops[0], w, lane, src[j] & 0xffffffff);
    if (I.ops[0].pred2)
      x.writeReg(I.ops[0].pred2 - 1, w, lane, pval);
  });
}

static void vote(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  uint32_t ballot = 0;
  forLanes(mask, [&](unsigned l) {
    if (x.read(I.ops[1], w, l) != 0)
      ballot |= 1u << l;
  });
  forLanes(mask, [&](unsigned l) {
    uint32_t members = uint32_t(x.read(I.ops[2], w, l)) & mask;
    uint32_t b = ballot & members;
    uint64_t r = 0;
    switch (VoteMode(I.mode)) {
    case VoteMode::All: r = b == members; break;
    case VoteMode::Any: r = b != 0; break;
    case VoteMode::Uni: r = b == 0 || b == members; break;
    case VoteMode::Ballot: r = b; break;
    }
    x.write(I.ops[0], w, l, r);
  });
}

/// Decodes one 16-bit element of an mma multiplicand.
static float mmaElem(DType t, uint32_t bits) {
  return t == DType::BF16 ? bf16ToF32(uint16_t(bits))
                          : f16ToF32(uint16_t(bits));
}

static void mma(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  if (mask != ~0u) {
    x.fault(I, w, __builtin_ctz(mask),
            "mma.sync.aligned executed by a partial warp");
    return;
  }
  float A[16][16], B[16][8], C[16][8];
  for (unsigned lane = 0; lane < kWarpSize; ++lane) {
    unsigned g = lane >> 2, t = lane % 4;
    // A: a0..a7 in 4 registers; row g (+8 for a2,a3,a6,a7), col 2t+(i&1)
    // (+8 for i >= 4).
    for (unsigned i = 0; i < 8; ++i) {
      uint32_t reg = uint32_t(x.read(x.elem(I.ops[1], i / 2), w, lane));
      unsigned row = g + ((i % 4) >= 2 ? 8 : 0);
      unsigned col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
      A[row][col] = mmaElem(I.srcType, reg >> (16 * (i & 1)));
    }
    // B: b0..b3 in 2 registers; row 2t+(i&1) (+8 for i >= 2), col g.
    for (unsigned i = 0; i < 4; ++i) {
      uint32_t reg = uint32_t(x.read(x.elem(I.ops[2], i / 2), w, lane));
      unsigned row = 2 * t + (i & 1) + (i >= 2 ? 8 : 0);
      B[row][g] = mmaElem(I.srcType, reg >> (16 * (i & 1)));
    }
    // C: c0..c3; row g (+8 for i >= 2), col 2t+(i&1).
    for (unsigned i = 0; i < 4; ++i)
      C[g + (i >= 2 ? 8 : 0)][2 * t + (i & 1)] =
          bitsToF32(uint32_t(x.read(x.elem(I.ops[3], i), w, lane)));
  }
  ++x.prof.mma;
  for (unsigned lane = 0; lane < kWarpSize; ++lane) {
    unsigned g = lane >> 2, t = lane % 4;
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
      // Products of 16-bit floats are exact in f32; accumulate in f32.
      float acc = 0.0f;
      for (unsigned k = 0; k < 16; ++k)
        acc = std::fma(A[row][k], B[k][col], acc);
      x.write(x.elem(I.ops[0], i), w, lane, f32ToBits(acc + C[row][col]));
    }
  }
}

void ringrt::emu::execWarp(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  switch (I.op) {
  case Opcode::Shfl:
    return shfl(I, w, mask, x);
  case Opcode::Vote:
    return vote(I, w, mask, x);
  case Opcode::Mma:
    return mma(I, w, mask, x);
  default:
    x.fault(I, w, __builtin_ctz(mask), "internal: not a warp op");
  }
}
