//===- ExecTma.cpp - Tensor maps and cp.async.bulk.tensor ----------*- C++ -*-===//
//
// This file implements encodeTensorMapTiled() (the emulator's counterpart of
// cuTensorMapEncodeTiled, with the driver's documented validation) and the
// tiled bulk tensor copies:
//  - cp.async.bulk.tensor.Nd.shared::cluster.global.tile
//    .mbarrier::complete_tx::bytes [dst], [map, {c0..}], [mbar] copies the
//    box at coordinates c (elements, signed) into shared memory, dimension 0
//    fastest, filling out-of-bounds elements with zero (or NaN with
//    FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA), then performs complete_tx of the
//    box bytes on the mbarrier. The swizzle modes XOR address bits [4, 4+b)
//    with bits [7, 7+b) of each destination shared address (b = 1, 2, 3 for
//    32B, 64B, 128B), the pattern wgmma's descriptors read.
//  - cp.async.bulk.tensor.Nd.global.shared::cta.bulk_group [map, {c..}],
//    [src] stores a box (in-bounds elements only) from shared memory.
// The copies happen when issued (the earliest a GPU could perform them);
// the race checker records them as async-proxy accesses of the issuing
// thread that the mbarrier's phase completion publishes.
//
// The tensor map operand may be the kernel parameter itself, its generic
// address (cvta.param) or param-space address (mov of the parameter), or a
// 64-byte aligned copy in global memory.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"

#include <cstdio>
#include <cstring>

using namespace ringrt::emu;

namespace {
/// Emulator-private layout of the 128 tensor-map bytes.
struct TensorMap {
  static constexpr uint32_t kMagic = 0x414d5452; // "RTMA"
  uint32_t magic;
  uint8_t dataType, rank, interleave, swizzle, l2, oobFill, elemBytes, pad;
  uint8_t boxMinus1[5];
  uint8_t elemStrides[5];
  uint8_t pad2[2];
  uint64_t address;
  uint32_t dimMinus1[5];
  uint32_t pad3;
  uint64_t strides[4]; ///< bytes, of dimensions 1..rank-1
};
static_assert(sizeof(TensorMap) <= kTensorMapBytes, "tensor map too large");

/// Element bytes of a CUtensorMapDataType (0 for the packed types).
unsigned dataTypeBytes(unsigned t) {
  static const unsigned bytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  return t < 13 ? bytes[t] : 0;
}
bool isFloatType(unsigned t) {
  return t == 6 || t == 7 || t == 8 || t == 9 || t == 10 || t == 11 || t == 12;
}
} // namespace

bool ringrt::emu::encodeTensorMapTiled(
    void *out, unsigned dataType, unsigned rank, const void *globalAddress,
    const uint64_t *globalDim, const uint64_t *globalStrides,
    const uint32_t *boxDim, const uint32_t *elementStrides,
    unsigned interleave, unsigned swizzle, unsigned l2Promotion,
    unsigned oobFill, std::string &error) {
  auto fail = [&](const std::string &m) {
    error = "encodeTensorMapTiled: " + m;
    return false;
  };
  if (!out || reinterpret_cast<uintptr_t>(out) % 64)
    return fail("the tensor map must be 64-byte aligned (got " +
                hexAddr(reinterpret_cast<uintptr_t>(out)) + ")");
  if (dataType > 15)
    return fail("tensorDataType " + std::to_string(dataType) +
                " is not a CUtensorMapDataType (valid: 0..15)");
  if (rank < 1 || rank > 5)
    return fail("tensorRank " + std::to_string(rank) +
                " is out of range (valid: 1..5)");
  if (interleave > 2)
    return fail("interleave " + std::to_string(interleave) +
                " is not a CUtensorMapInterleave (valid: 0..2)");
  if (interleave != 0 && rank < 3)
    return fail("tensorRank " + std::to_string(rank) +
                " must be at least 3 with an interleaved layout");
  if (swizzle > 6)
    return fail("swizzle " + std::to_string(swizzle) +
                " is not a CUtensorMapSwizzle (valid: 0..6)");
  if (l2Promotion > 3)
    return fail("l2Promotion " + std::to_string(l2Promotion) +
                " is not a CUtensorMapL2promotion (valid: 0..3)");
  if (oobFill > 1)
    return fail("oobFill " + std::to_string(oobFill) +
                " is not a CUtensorMapFloatOOBfill (valid: 0..1)");
  const uintptr_t addr = reinterpret_cast<uintptr_t>(globalAddress);
  const unsigned addrAlign =
      (interleave == 2 || dataType == 14 || dataType == 15) ? 32 : 16;
  if (!globalAddress || addr % addrAlign)
    return fail("globalAddress " + hexAddr(addr) + " must be " +
                std::to_string(addrAlign) + "-byte aligned");
  for (unsigned i = 0; i < rank; ++i)
    if (globalDim[i] == 0 || globalDim[i] > (uint64_t(1) << 32))
      return fail("globalDim[" + std::to_string(i) + "] = " +
                  std::to_string(globalDim[i]) +
                  " is out of range (valid: 1..2^32)");
  const unsigned strideAlign =
      (interleave == 2 || dataType == 14 || dataType == 15) ? 32 : 16;
  for (unsigned i = 0; i + 1 < rank; ++i)
    if (globalStrides[i] % strideAlign ||
        globalStrides[i] >= (uint64_t(1) << 40))
      return fail("globalStrides[" + std::to_string(i) + "] = " +
                  std::to_string(globalStrides[i]) + " must be a multiple of " +
                  std::to_string(strideAlign) + " below 2^40");
  for (unsigned i = 0; i < rank; ++i)
    if (boxDim[i] == 0 || boxDim[i] > 256)
      return fail("boxDim[" + std::to_string(i) + "] = " +
                  std::to_string(boxDim[i]) +
                  " is out of range (valid: 1..256)");
  for (unsigned i = 0; i < rank; ++i)
    if (elementStrides[i] == 0 || elementStrides[i] > 8)
      return fail("elementStrides[" + std::to_string(i) + "] = " +
                  std::to_string(elementStrides[i]) +
                  " is out of range (valid: 1..8)");
  if (dataType >= 13)
    return fail("the packed data type " + std::to_string(dataType) +
                " (16U4/16U6) is not supported by the emulator");
  const unsigned eb = dataTypeBytes(dataType);
  const uint64_t inner = uint64_t(boxDim[0]) * eb;
  if (interleave == 0 && inner % 16)
    return fail("the inner box dimension boxDim[0] * " + std::to_string(eb) +
                " = " + std::to_string(inner) +
                " bytes must be a multiple of 16 bytes");
  if (interleave == 2 && swizzle != 1)
    return fail("INTERLEAVE_32B requires SWIZZLE_32B");
  if (interleave == 0 && swizzle != 0) {
    const unsigned span = swizzle == 1 ? 32 : swizzle == 2 ? 64 : 128;
    if (inner > span)
      return fail("the inner box dimension is " + std::to_string(inner) +
                  " bytes, more than the " + std::to_string(span) +
                  "-byte span of swizzle mode " + std::to_string(swizzle));
  }
  if (oobFill == 1 && !isFloatType(dataType))
    return fail("FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA needs a floating-point "
                "tensorDataType (got " + std::to_string(dataType) + ")");
  if (interleave != 0)
    return fail("interleaved layouts are not supported by the emulator");
  if (swizzle > 3)
    return fail("swizzle mode " + std::to_string(swizzle) +
                " (128B_ATOM_*) is not supported by the emulator");
  TensorMap m;
  std::memset(&m, 0, sizeof(m));
  m.magic = TensorMap::kMagic;
  m.dataType = uint8_t(dataType);
  m.rank = uint8_t(rank);
  m.interleave = uint8_t(interleave);
  m.swizzle = uint8_t(swizzle);
  m.l2 = uint8_t(l2Promotion);
  m.oobFill = uint8_t(oobFill);
  m.elemBytes = uint8_t(eb);
  m.address = addr;
  for (unsigned i = 0; i < rank; ++i) {
    m.boxMinus1[i] = uint8_t(boxDim[i] - 1);
    m.elemStrides[i] = uint8_t(elementStrides[i]);
    m.dimMinus1[i] = uint32_t(globalDim[i] - 1);
    if (i)
      m.strides[i - 1] = globalStrides[i - 1];
  }
  std::memset(out, 0, kTensorMapBytes);
  std::memcpy(out, &m, sizeof(m));
  return true;
}

/// Reads the tensor map named by address operand `o`; false after a fault.
static bool loadTensorMap(const Instr &I, const Operand &o, Warp &w,
                          unsigned lane, Exec &x, TensorMap &m) {
  const uint8_t *p = nullptr;
  if (o.kind == Operand::Symbol &&
      x.k.symbols[o.index].space == Space::Param) {
    uint64_t off = x.k.symbols[o.index].value + uint64_t(o.imm);
    if (off + kTensorMapBytes <= x.params.size())
      p = x.params.data() + off;
  } else {
    uint64_t a = x.address(o, w, lane);
    uint64_t pb = reinterpret_cast<uint64_t>(x.params.data());
    if (a >= pb && a - pb + kTensorMapBytes <= x.params.size())
      p = x.params.data() + (a - pb); // cvta.param address
    else if (a + kTensorMapBytes <= x.params.size())
      p = x.params.data() + a; // param-space address (mov of the parameter)
    else if (Memory::Where where; x.mem.locate(a, kTensorMapBytes, where)) {
      if (a % 64) {
        x.fault(I, w, lane, "tensor map at global address " + hexAddr(a) +
                                " is not 64-byte aligned");
        return false;
      }
      if (where.init &&
          !x.checkGlobalInit(where.init, a, kTensorMapBytes, I, w, lane))
        return false;
      p = reinterpret_cast<const uint8_t *>(a);
    } else {
      x.fault(I, w, lane, "tensor map address " + hexAddr(a) +
                              " is neither a kernel parameter nor inside a "
                              "device allocation");
      return false;
    }
  }
  if (!p) {
    x.fault(I, w, lane, "the tensor map parameter is smaller than 128 bytes");
    return false;
  }
  std::memcpy(&m, p, sizeof(m));
  if (m.magic != TensorMap::kMagic) {
    x.fault(I, w, lane, "the tensor map operand does not hold a tensor map "
                        "made by encodeTensorMapTiled");
    return false;
  }
  if (m.rank != I.mode) {
    x.fault(I, w, lane, "a " + std::to_string(I.mode) +
                            "d tensor copy with a tensor map of rank " +
                            std::to_string(m.rank));
    return false;
  }
  return true;
}

namespace {
/// The elements of one box, dimension 0 fastest.
struct Box {
  const TensorMap &m;
  int64_t coord[5] = {};
  unsigned count[5] = {1, 1, 1, 1, 1}; ///< elements per dimension
  uint64_t total = 1;
  Box(const TensorMap &m, const int64_t *c) : m(m) {
    for (unsigned i = 0; i < m.rank; ++i) {
      coord[i] = c[i];
      unsigned es = i == 0 ? 1 : m.elemStrides[i]; // dim 0 has no stride
      count[i] = (unsigned(m.boxMinus1[i]) + 1 + es - 1) / es;
      total *= count[i];
    }
  }
  /// Global address of element `e`, or false when out of bounds.
  bool global(uint64_t e, uint64_t &addr) const {
    addr = m.address;
    for (unsigned i = 0; i < m.rank; ++i) {
      uint64_t idx = e % count[i];
      e /= count[i];
      unsigned es = i == 0 ? 1 : m.elemStrides[i];
      int64_t g = coord[i] + int64_t(idx) * es;
      if (g < 0 || g > int64_t(m.dimMinus1[i]))
        return false;
      addr += uint64_t(g) * (i == 0 ? m.elemBytes : m.strides[i - 1]);
    }
    return true;
  }
};

/// Swizzled shared address of byte offset `off` from `base`.
uint32_t swizzled(uint32_t base, uint64_t off, unsigned mode) {
  static const unsigned bits[4] = {0, 1, 2, 3};
  uint32_t a = uint32_t(base + off);
  uint32_t mask = ((1u << bits[mode]) - 1) << 4;
  return a ^ ((a >> 3) & mask);
}

/// The fill of an out-of-bounds element.
uint64_t oobValue(const TensorMap &m) {
  if (!m.oobFill)
    return 0;
  switch (m.dataType) {
  case 6: case 9: return 0x7fff;            // f16 / bf16 NaN
  case 8: return 0x7fffffffffffffffull;     // f64 NaN
  default: return 0x7fffffff;               // f32 / tf32 NaN
  }
}
} // namespace

namespace {
/// The device range of the elements of one box (they lie in one allocation,
/// so one lookup usually serves them all).
struct BoxRange {
  Memory &mem;
  Memory::Where where;
  uint8_t *initBase = nullptr; ///< shadow of where.base (null: none)
  bool valid = false;
  /// Finds the range of [ga, ga + eb); false if none holds it.
  bool find(uint64_t ga, unsigned eb) {
    if (valid && ga >= where.base && ga + eb <= where.base + where.size)
      return true;
    valid = mem.locate(ga, eb, where);
    initBase = valid && where.init ? where.init - (ga - where.base) : nullptr;
    return valid;
  }
  /// The shadow byte of `ga` after find() (null: always initialized).
  uint8_t *init(uint64_t ga) const {
    return initBase ? initBase + (ga - where.base) : nullptr;
  }
};
} // namespace

/// Checks that the box fits the shared window at `smem` and that its
/// in-bounds elements lie in device memory and, for a load (`load`), are
/// initialized; false after a fault.
static bool checkBox(const Instr &I, Warp &w, unsigned l, Exec &x,
                     const Box &box, uint32_t smem, bool load) {
  const unsigned eb = box.m.elemBytes;
  const uint64_t bytes = box.total * eb;
  if (smem + bytes > x.shared.size()) {
    x.fault(I, w, l, "the " + std::to_string(bytes) +
                         "-byte box at shared address " + hexAddr(smem) +
                         " exceeds the " + std::to_string(x.shared.size()) +
                         "-byte shared window");
    return false;
  }
  BoxRange range{x.mem};
  for (uint64_t e = 0; e < box.total; ++e) {
    uint64_t ga;
    if (!box.global(e, ga))
      continue;
    if (!range.find(ga, eb)) {
      x.fault(I, w, l, "the tensor map's element at global address " +
                           hexAddr(ga) + " is not inside any device allocation");
      return false;
    }
    if (load && range.initBase &&
        !x.checkGlobalInit(range.init(ga), ga, eb, I, w, l))
      return false;
  }
  return true;
}

static bool readCoords(const Instr &I, const Operand &v, Warp &w,
                       unsigned lane, Exec &x, int64_t *c) {
  for (unsigned i = 0; i < I.mode; ++i)
    c[i] = signExtend(x.read(x.elem(v, i), w, lane), 4);
  return !x.failed;
}

/// The tensor map, coordinates and 128-byte aligned shared address of a
/// tensor copy (map operand `mi`, coordinates `mi + 1`, shared `si`).
static bool tensorOperands(const Instr &I, unsigned mi, unsigned si, Warp &w,
                           unsigned l, Exec &x, TensorMap &m, int64_t *c,
                           uint32_t &smem) {
  return loadTensorMap(I, I.ops[mi], w, l, x, m) &&
         readCoords(I, I.ops[mi + 1], w, l, x, c) &&
         x.sharedOffset(Space::Shared, x.address(I.ops[si], w, l), 1, 128, I,
                        w, l, smem);
}

static void tmaLoad(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  const uint32_t idx = x.instrIndex(I);
  forLanes(exec, [&](unsigned l) {
    if (x.failed)
      return;
    TensorMap m;
    int64_t c[5];
    uint32_t dst, mbarOff;
    if (!tensorOperands(I, 1, 0, w, l, x, m, c, dst) ||
        !x.sharedOffset(Space::Shared, x.address(I.ops[3], w, l), 8, 8, I, w,
                        l, mbarOff))
      return;
    auto it = x.mbars.find(mbarOff);
    if (it == x.mbars.end()) {
      x.fault(I, w, l, "no initialized mbarrier at shared address " +
                           hexAddr(mbarOff) + " (mbarrier.init it first)");
      return;
    }
    // complete_tx is an async-proxy access of the mbarrier: its (generic)
    // initialization must be ordered before it and fenced by its thread.
    const MBarrier &init = it->second;
    if ((*x.warps)[init.initWarp].initFence[init.initLane] == init.initFence) {
      x.fault(I, w, l, "the complete_tx of this TMA uses the mbarrier at "
                       "shared address " + hexAddr(mbarOff) +
                       " initialized by " +
                       x.threadName(init.initWarp, init.initLane) + " at " +
                       x.lineName(init.initInstr) +
                       ", which executed no fence.proxy.async or "
                       "fence.mbarrier_init after the init");
      return;
    }
    x.mbarrierOp = true;
    x.checkShared(w, l, mbarOff, 8, false, idx);
    x.mbarrierOp = false;
    if (x.failed)
      return;
    Box box(m, c);
    const unsigned eb = m.elemBytes;
    const uint64_t bytes = box.total * eb;
    if (!checkBox(I, w, l, x, box, dst, /*load=*/true))
      return;
    for (uint64_t off = 0; off < bytes; off += 16) {
      x.checkAsyncWrite(w, l, swizzled(dst, off, m.swizzle),
                        unsigned(std::min<uint64_t>(16, bytes - off)), idx);
      if (x.failed)
        return;
    }
    const uint64_t fill = oobValue(m);
    for (uint64_t e = 0; e < box.total; ++e) {
      uint64_t ga;
      uint8_t *p = x.shared.data() + swizzled(dst, e * eb, m.swizzle);
      if (box.global(e, ga))
        std::memcpy(p, reinterpret_cast<const void *>(ga), eb);
      else
        std::memcpy(p, &fill, eb);
    }
    x.prof.tmaLoadBytes += bytes;
    // complete_tx releases the copy to whoever observes the phase.
    MBarrier &mb = it->second;
    mb.tx -= int64_t(bytes);
    mb.cur.join(w.vc);
    ++w.vc.c[w.index];
    ++x.epoch;
    x.tryCompletePhase(mbarOff, mb);
  });
}

static void tmaStore(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  const uint32_t idx = x.instrIndex(I);
  forLanes(exec, [&](unsigned l) {
    if (x.failed)
      return;
    TensorMap m;
    int64_t c[5];
    uint32_t src;
    if (!tensorOperands(I, 0, 2, w, l, x, m, c, src))
      return;
    Box box(m, c);
    const unsigned eb = m.elemBytes;
    const uint64_t bytes = box.total * eb;
    if (!checkBox(I, w, l, x, box, src, /*load=*/false))
      return;
    for (uint64_t off = 0; off < bytes; off += 16) {
      uint32_t chunk = swizzled(src, off, m.swizzle);
      unsigned n = unsigned(std::min<uint64_t>(16, bytes - off));
      x.checkAsyncRead(w, l, w.vc, chunk, n, idx, "TMA store source read");
      // Record the read, so that a later unordered write conflicts with it.
      if (!x.failed)
        x.checkShared(w, l, chunk, n, false, idx);
      if (x.failed)
        return;
    }
    BoxRange range{x.mem};
    for (uint64_t e = 0; e < box.total; ++e) {
      uint64_t ga;
      if (!box.global(e, ga))
        continue;
      std::memcpy(reinterpret_cast<void *>(ga),
                  x.shared.data() + swizzled(src, e * eb, m.swizzle), eb);
      range.find(ga, eb); // checkBox found it
      if (uint8_t *init = range.init(ga))
        std::memset(init, 1, eb);
    }
    x.prof.tmaStoreBytes += bytes;
  });
}

void ringrt::emu::execTma(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  switch (I.op) {
  case Opcode::TmaLoad:
    return tmaLoad(I, w, exec, x);
  case Opcode::TmaStore:
    return tmaStore(I, w, exec, x);
  case Opcode::BulkCommit:
  case Opcode::BulkWait:
    // Stores complete when issued, so the bulk groups have nothing pending.
    return;
  default:
    x.fault(I, w, __builtin_ctz(exec), "internal: not a bulk copy");
  }
}
