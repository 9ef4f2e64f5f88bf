//===- ExecWgmma.cpp - Asynchronous warpgroup MMA ----------------*- C++ -*-===//
//
// This file implements wgmma.fence, wgmma.commit_group, wgmma.wait_group and
// wgmma.mma_async.m64nNk16 (.f32 accumulator, .bf16/.f16 inputs), following
// the PTX ISA:
//  - The four warps of a warpgroup execute wgmma.mma_async together
//    (.sync.aligned): each warp waits at the instruction until all four
//    arrived at the same one with all 32 threads; anything else is an error.
//  - Fragments: warp i of the warpgroup owns rows 16i..16i+15. A in
//    registers uses the m16n8k16 A layout (a0..a7 in 4 registers); the
//    accumulator D holds N/2 registers per thread: d[4j+e] is row
//    16i + lane/4 + 8*(e>=2), column 8j + 2*(lane%4) + (e&1).
//  - Shared-memory operands come from 64-bit matrix descriptors: start
//    address bits 0-13, leading byte offset (LBO) bits 16-29, stride byte
//    offset (SBO) bits 32-45 (all >> 4), base offset bits 49-51, swizzle
//    bits 62-63 (0 none, 1 128B, 2 64B, 3 32B). The canonical layouts of
//    K-major (imm-trans 0) and MN-major (imm-trans 1) operands, in bytes of
//    16-bit elements, with W the swizzle width (16 for none):
//      K-major,  none: (mn%8)*16 + (mn/8)*SBO + (k%8)*2 + (k/8)*LBO
//      K-major,  W:    (mn%8)*W  + (mn/8)*SBO + k*2
//      MN-major, none: (mn%8)*2  + (mn/8)*SBO + (k%8)*16 + (k/8)*LBO
//      MN-major, W:    (mn%(W/2))*2 + (mn/(W/2))*LBO + (k%8)*W + (k/8)*SBO
//    and the swizzle XORs address bits [4, 4+b) with bits [7, 7+b), b = 3,
//    2, 1 for 128B, 64B, 32B, on the shared-memory address.
//  - The operation is asynchronous: its results are kept aside and land in
//    the accumulator registers when a wgmma.wait_group retires its group.
//    Until then, reading or writing the accumulators (except by a chained
//    wgmma.mma_async of the same shape), writing its A registers, or
//    writing the shared memory it reads is an error. Registers written
//    after the warp's last wgmma.fence must not feed a wgmma.mma_async.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"
#include "FloatBits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace ringrt::emu;

namespace {
/// The fields of a shared-memory matrix descriptor.
struct Desc {
  uint32_t start, lbo, sbo;
  unsigned baseOffset, swizzle;
  explicit Desc(uint64_t d)
      : start(uint32_t(d & 0x3fff) << 4),
        lbo(uint32_t((d >> 16) & 0x3fff) << 4),
        sbo(uint32_t((d >> 32) & 0x3fff) << 4),
        baseOffset(unsigned((d >> 49) & 7)), swizzle(unsigned(d >> 62)) {}
  /// Bytes of a row of the swizzle atom (16 without swizzling).
  unsigned width() const {
    static const unsigned w[4] = {16, 128, 64, 32};
    return w[swizzle];
  }
  /// Shared address of 16-bit element (mn, k), k < 16.
  uint32_t address(bool mnMajor, unsigned mn, unsigned k) const {
    const unsigned W = width();
    uint32_t off;
    if (!mnMajor)
      off = swizzle == 0
                ? (mn % 8) * 16 + (mn / 8) * sbo + (k % 8) * 2 + (k / 8) * lbo
                : (mn % 8) * W + (mn / 8) * sbo + k * 2;
    else
      off = swizzle == 0 ? (mn % 8) * 2 + (mn / 8) * sbo + (k % 8) * 16 +
                               (k / 8) * lbo
                         : (mn % (W / 2)) * 2 + (mn / (W / 2)) * lbo +
                               (k % 8) * W + (k / 8) * sbo;
    uint32_t a = start + off;
    static const unsigned bits[4] = {0, 3, 2, 1};
    uint32_t mask = ((1u << bits[swizzle]) - 1) << 4;
    return a ^ ((a >> 3) & mask);
  }
};
} // namespace

static float elemValue(DType t, uint16_t bits) {
  return t == DType::BF16 ? bf16ToF32(bits) : f16ToF32(bits);
}

/// Reads operand `o` for every thread of the warpgroup and requires one
/// value; false after a fault.
static bool uniformValue(const Operand &o, Warp *const ws[4], Exec &x,
                         const char *what, uint64_t &v) {
  v = x.read(o, *ws[0], 0);
  for (unsigned i = 0; i < 4; ++i)
    for (unsigned l = 0; l < kWarpSize; ++l)
      if (x.read(o, *ws[i], l) != v) {
        if (!x.failed)
          x.fault(*ws[i], l, std::string(what) +
                                 " differs between the threads of the "
                                 "warpgroup; wgmma.mma_async needs one value");
        return false;
      }
  return !x.failed;
}

/// Loads the 16-bit element at shared address `a`; false after a fault.
static bool loadShared(Exec &x, Warp &w, uint32_t a, const Desc &d,
                       const char *which, uint16_t &v) {
  if (uint64_t(a) + 2 > x.shared.size()) {
    x.fault(w, 0, std::string("the ") + which + " descriptor (start " +
                      hexAddr(d.start) + ", LBO " + std::to_string(d.lbo) +
                      ", SBO " + std::to_string(d.sbo) + ", swizzle mode " +
                      std::to_string(d.swizzle) +
                      ") addresses shared memory " + hexAddr(a) +
                      " beyond the " + std::to_string(x.shared.size()) +
                      "-byte window");
    return false;
  }
  std::memcpy(&v, x.shared.data() + a, 2);
  return true;
}

static void mmaAsync(const Instr &I, unsigned g, Exec &x) {
  Warp *ws[4];
  for (unsigned i = 0; i < 4; ++i)
    ws[i] = &(*x.warps)[4 * g + i];
  const uint32_t idx = x.instrIndex(I);
  const unsigned N = I.n;
  const bool aDesc = I.numOps == 8;
  const float sa = float(I.ops[4].imm), sb = float(I.ops[5].imm);
  const bool transA = aDesc && I.ops[6].imm;
  const bool transB = I.ops[aDesc ? 7 : 6].imm;
  uint64_t scaleD, descBBits, descABits = 0;
  if (!uniformValue(I.ops[3], ws, x, "scale-d", scaleD) ||
      !uniformValue(I.ops[2], ws, x, "the B descriptor", descBBits) ||
      (aDesc && !uniformValue(I.ops[1], ws, x, "the A descriptor", descABits)))
    return;
  // wgmma.fence must order earlier register writes before the wgmma.
  for (Warp *w : ws) {
    if (!w->wgmmaFenced) {
      x.fault(*w, 0, "no wgmma.fence before the first wgmma.mma_async of "
                     "this warp");
      return;
    }
    auto fenced = [&](uint32_t r, const char *role) {
      if (w->regState[r] == RegFree && w->lastWrite[r] > w->wgmmaFenceTick) {
        x.fault(*w, 0, std::string("register ") + x.regName(r) + " (" + role +
                           ") was written after the warp's last wgmma.fence;"
                           " wgmma.fence must separate it from "
                           "wgmma.mma_async");
        return false;
      }
      return true;
    };
    if (scaleD)
      for (unsigned j = 0; j < N / 2; ++j)
        if (!fenced(x.elem(I.ops[0], j).index, "accumulator"))
          return;
    if (!aDesc)
      for (unsigned j = 0; j < 4; ++j)
        if (!fenced(x.elem(I.ops[1], j).index, "A fragment"))
          return;
  }
  static thread_local std::vector<float> A, B, C;
  A.assign(64 * 16, 0.0f);
  B.assign(16 * N, 0.0f);
  C.assign(64 * N, 0.0f);
  std::vector<uint32_t> granules;
  const Desc dB(descBBits), dA(descABits);
  for (const Desc *d : {&dB, &dA}) {
    if ((d == &dA && !aDesc) || !d->baseOffset)
      continue;
    x.fault(*ws[0], 0, "matrix descriptor base offset " +
                           std::to_string(d->baseOffset) +
                           " is not supported (align the operand to its "
                           "swizzle pattern and use 0)");
    return;
  }
  // A.
  if (aDesc) {
    for (unsigned m = 0; m < 64; ++m)
      for (unsigned k = 0; k < 16; ++k) {
        uint32_t a = dA.address(transA, m, k);
        uint16_t v;
        if (!loadShared(x, *ws[0], a, dA, "A", v))
          return;
        A[m * 16 + k] = sa * elemValue(I.srcType, v);
        granules.push_back(a / 4);
      }
  } else {
    for (unsigned i = 0; i < 4; ++i)
      for (unsigned l = 0; l < kWarpSize; ++l) {
        unsigned gr = l / 4, t = l % 4;
        for (unsigned e = 0; e < 8; ++e) {
          uint32_t reg = uint32_t(x.read(x.elem(I.ops[1], e / 2), *ws[i], l));
          unsigned row = 16 * i + gr + ((e % 4) >= 2 ? 8 : 0);
          unsigned col = 2 * t + (e & 1) + (e >= 4 ? 8 : 0);
          A[row * 16 + col] =
              sa * elemValue(I.srcType, uint16_t(reg >> (16 * (e & 1))));
        }
      }
  }
  // B (K x N).
  for (unsigned n = 0; n < N; ++n)
    for (unsigned k = 0; k < 16; ++k) {
      uint32_t a = dB.address(transB, n, k);
      uint16_t v;
      if (!loadShared(x, *ws[0], a, dB, "B", v))
        return;
      B[k * N + n] = sb * elemValue(I.srcType, v);
      granules.push_back(a / 4);
    }
  if (x.failed)
    return;
  std::sort(granules.begin(), granules.end());
  granules.erase(std::unique(granules.begin(), granules.end()),
                 granules.end());
  // The operands are read by the async proxy on behalf of the four warps.
  VClock vc = ws[0]->vc;
  for (unsigned i = 1; i < 4; ++i)
    vc.join(ws[i]->vc);
  for (uint32_t gr : granules) {
    x.checkAsyncRead(*ws[0], 0, vc, gr * 4, 4, idx, "wgmma.mma_async operand read");
    if (x.failed)
      return;
  }
  // C: the accumulators, possibly still in flight from a chained wgmma.
  if (scaleD)
    for (unsigned i = 0; i < 4; ++i) {
      Warp &w = *ws[i];
      for (unsigned j = 0; j < N / 2; ++j) {
        uint32_t r = x.elem(I.ops[0], j).index;
        bool chained = w.regState[r] == RegWgmmaAcc;
        if (chained && x.k.code[w.regInstr[r]].n != N) {
          x.fault(w, 0, "register " + x.regName(r) +
                            " is an accumulator of the in-flight " +
                            x.lineName(w.regInstr[r]) +
                            " of another shape; only a wgmma.mma_async of "
                            "the same shape may chain on it");
          return;
        }
        for (unsigned l = 0; l < kWarpSize; ++l) {
          uint64_t bits = chained ? w.pendingVal[r * kWarpSize + l]
                                  : x.read(x.elem(I.ops[0], j), w, l);
          unsigned row = 16 * i + l / 4 + ((j % 4) >= 2 ? 8 : 0);
          unsigned col = (j / 4) * 8 + 2 * (l % 4) + (j & 1);
          C[row * N + col] = bitsToF32(uint32_t(bits));
        }
      }
    }
  if (x.failed)
    return;
  // D = A * B (+ C): products of 16-bit floats are exact in f32.
  for (unsigned i = 0; i < 4; ++i) {
    Warp &w = *ws[i];
    if (w.pendingVal.empty())
      w.pendingVal.assign(w.regs.size(), 0);
    for (unsigned j = 0; j < N / 2; ++j) {
      uint32_t r = x.elem(I.ops[0], j).index;
      if (w.regState[r] == RegWgmmaA) {
        x.fault(w, 0, "accumulator register " + x.regName(r) +
                          " is an A fragment of the in-flight " +
                          x.lineName(w.regInstr[r]));
        return;
      }
      for (unsigned l = 0; l < kWarpSize; ++l) {
        unsigned row = 16 * i + l / 4 + ((j % 4) >= 2 ? 8 : 0);
        unsigned col = (j / 4) * 8 + 2 * (l % 4) + (j & 1);
        float acc = 0.0f;
        for (unsigned k = 0; k < 16; ++k)
          acc = std::fma(A[row * 16 + k], B[k * N + col], acc);
        if (scaleD)
          acc += C[row * N + col];
        w.pendingVal[r * kWarpSize + l] = f32ToBits(acc);
      }
      w.regState[r] = RegWgmmaAcc;
      w.regGroup[r] = w.wgmmaGroup;
      w.regInstr[r] = idx;
      w.valid[r] = 0;
    }
    if (!aDesc)
      for (unsigned j = 0; j < 4; ++j) {
        uint32_t r = x.elem(I.ops[1], j).index;
        if (w.regState[r] == RegFree || w.regState[r] == RegWgmmaA) {
          w.regState[r] = RegWgmmaA;
          w.regGroup[r] = w.wgmmaGroup;
          w.regInstr[r] = idx;
        }
      }
  }
  WgmmaOp op;
  op.warpgroup = g;
  op.instr = idx;
  for (unsigned i = 0; i < 4; ++i)
    op.group[i] = ws[i]->wgmmaGroup;
  for (uint32_t gr : granules)
    if (gr < x.shadow.size)
      ++x.shadow.gran[gr].inflight;
  op.granules = std::move(granules);
  x.wgmmaOps.push_back(std::move(op));
  ++x.prof.wgmma;
  x.prof.wgmmaFlops += 2ull * 64 * N * 16;
}

void Exec::retireWgmma(Warp &w, uint32_t limit) {
  const unsigned g = w.index / 4, wi = w.index % 4;
  size_t kept = 0;
  for (size_t i = 0; i < wgmmaOps.size(); ++i) {
    WgmmaOp &op = wgmmaOps[i];
    if (op.warpgroup == g && op.group[wi] < limit) {
      // The first warp to retire the operation proves it complete: its
      // shared-memory reads are now reads by that warp.
      for (uint32_t gr : op.granules) {
        if (gr >= shadow.size)
          continue;
        Granule &s = shadow.gran[gr];
        --s.inflight;
        s.readers |= 1u << w.index;
        ReadRecord &r = shadow.read(w.index, gr);
        r.clock = w.vc.c[w.index];
        r.instr = op.instr;
        r.lane = 0;
      }
      continue;
    }
    if (kept != i)
      wgmmaOps[kept] = std::move(op);
    ++kept;
  }
  wgmmaOps.resize(kept);
  for (uint32_t r = 0; r < w.regState.size(); ++r) {
    if (w.regState[r] == RegFree || w.regGroup[r] >= limit)
      continue;
    if (w.regState[r] == RegWgmmaAcc) {
      for (unsigned l = 0; l < kWarpSize; ++l)
        w.reg(r, l) = w.pendingVal[r * kWarpSize + l];
      w.valid[r] = w.live;
    }
    w.regState[r] = RegFree;
  }
}

void ringrt::emu::execWgmma(const Instr &I, Warp &w, uint32_t exec,
                            Exec &x) {
  const unsigned lane0 = unsigned(__builtin_ctz(exec));
  if (exec != ~0u || w.live != ~0u) {
    x.fault(w, lane0, "executed by lanes " + hexAddr(exec) +
                          " of the warp: this .sync.aligned warpgroup "
                          "instruction needs all 32 threads");
    return;
  }
  switch (I.op) {
  case Opcode::WgmmaFence:
    w.wgmmaFenced = true;
    w.wgmmaFenceTick = w.tick;
    return;
  case Opcode::WgmmaCommit:
    ++w.wgmmaGroup;
    return;
  case Opcode::WgmmaWait: {
    int64_t n = I.ops[0].imm;
    if (n < 0 || n > 7) {
      x.fault(w, lane0, "wgmma.wait_group count " + std::to_string(n) +
                            " is out of range (valid: 0..7)");
      return;
    }
    if (uint32_t(n) < w.wgmmaGroup)
      x.retireWgmma(w, w.wgmmaGroup - uint32_t(n));
    return;
  }
  case Opcode::Wgmma: {
    const unsigned g = w.index / 4;
    if (x.warpsPerCta < 4 * g + 4 || g >= 8) {
      x.fault(w, lane0, "warpgroup " + std::to_string(g) +
                            " is incomplete: the block has " +
                            std::to_string(x.warpsPerCta) +
                            " warps, and wgmma.mma_async needs all 4 warps "
                            "of the warpgroup");
      return;
    }
    const uint32_t idx = x.instrIndex(I);
    if (x.wgArrived[g] && x.wgInstr[g] != idx) {
      x.fault(w, lane0, "the warps of warpgroup " + std::to_string(g) +
                            " diverge: others wait at " +
                            x.lineName(x.wgInstr[g]) +
                            "; wgmma.mma_async.sync.aligned needs all 4 "
                            "warps at the same instruction");
      return;
    }
    x.wgArrived[g] |= 1u << (w.index % 4);
    x.wgInstr[g] = idx;
    if (x.wgArrived[g] != 0xf) {
      w.park = Park::Wgmma;
      w.parkInstr = idx;
      return;
    }
    x.wgArrived[g] = 0;
    for (unsigned i = 0; i < 4; ++i)
      (*x.warps)[4 * g + i].park = Park::None;
    mmaAsync(I, g, x);
    return;
  }
  default:
    x.fault(w, lane0, "internal: not a wgmma op");
  }
}
