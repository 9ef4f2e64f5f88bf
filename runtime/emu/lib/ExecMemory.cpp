//===- ExecMemory.cpp - ld, st, cvta, cp.async, ldmatrix ---------*- C++ -*-===//
//
// This file implements the memory instructions. Every access is checked
// (bounds and alignment) for all lanes before any lane writes, so a faulting
// instruction leaves memory untouched. cp.async data becomes visible in
// shared memory only when a wait_group/wait_all completes its group; for the
// race check its write spans the interval from the issue to that wait.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"

#include <cstring>

using namespace ringrt::emu;

static void load(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned eb = typeBytes(I.type), bytes = eb * I.vec;
  const bool sgn = isSigned(I.type);
  forLanes(mask, [&](unsigned l) {
    if (x.failed)
      return;
    uint64_t addr = x.address(I.ops[1], w, l);
    const uint8_t *p =
        x.access(I.space, addr, bytes, bytes, I, w, l, Exec::Use::Read);
    if (!p)
      return;
    for (unsigned i = 0; i < I.vec; ++i) {
      uint64_t v = 0;
      std::memcpy(&v, p + i * eb, eb);
      if (sgn)
        v = uint64_t(signExtend(v, eb));
      x.write(x.elem(I.ops[0], i), w, l, v);
    }
  });
}

static void store(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned eb = typeBytes(I.type), bytes = eb * I.vec;
  uint8_t *ptrs[kWarpSize] = {};
  if (I.space == Space::Param) {
    x.fault(I, w, __builtin_ctz(mask), "st.param is not supported");
    return;
  }
  // Read every source first: a fault leaves memory untouched.
  uint64_t vals[kWarpSize][8];
  forLanes(mask, [&](unsigned l) {
    for (unsigned i = 0; i < I.vec; ++i)
      vals[l][i] = x.read(x.elem(I.ops[1], i), w, l);
  });
  forLanes(mask, [&](unsigned l) {
    if (!x.failed)
      ptrs[l] = x.access(I.space, x.address(I.ops[0], w, l), bytes, bytes, I,
                         w, l, Exec::Use::Write);
  });
  if (x.failed)
    return;
  forLanes(mask, [&](unsigned l) {
    for (unsigned i = 0; i < I.vec; ++i)
      std::memcpy(ptrs[l] + i * eb, &vals[l][i], eb);
  });
}

static void cvta(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  uint64_t base = I.space == Space::Shared
                      ? reinterpret_cast<uint64_t>(x.shared.data())
                  : I.space == Space::Param
                      ? reinterpret_cast<uint64_t>(x.params.data())
                      : 0;
  uint64_t m = widthMask(typeBytes(I.type));
  forLanes(mask, [&](unsigned l) {
    uint64_t a = x.read(I.ops[1], w, l);
    x.write(I.ops[0], w, l,
            (I.op == Opcode::Cvta ? a + base : a - base) & m);
  });
}

static void cpAsync(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned size = unsigned(I.ops[2].imm);
  forLanes(mask, [&](unsigned l) {
    if (x.failed)
      return;
    unsigned srcBytes = size;
    if (I.numOps == 4) {
      const Operand &o = I.ops[3];
      uint64_t v = x.read(o, w, l);
      if (I.flags & FlagIgnoreSrc) // predicate: true ignores the source
        srcBytes = v ? 0 : size;
      else
        srcBytes = unsigned(v);
      if (srcBytes > size) {
        x.fault(I, w, l, "cp.async src-size " + std::to_string(srcBytes) +
                             " exceeds cp-size " + std::to_string(size));
        return;
      }
    }
    uint64_t dst = x.address(I.ops[0], w, l);
    uint64_t src = x.address(I.ops[1], w, l);
    // The copy may land any time from here to the wait that completes it:
    // it is checked as a write both now (against reads and writes no
    // barrier orders before the issue) and when it lands (completeCopies).
    if (!x.access(Space::Shared, dst, size, size, I, w, l, Exec::Use::Write))
      return;
    x.prof.sharedBytes -= size; // counted when the copy completes
    PendingCopy c{};
    c.dst = dst;
    c.instr = x.instrIndex(I);
    c.group = w.openGroup[l];
    c.bytes = uint8_t(size);
    if (srcBytes) {
      if (src % size) {
        x.access(Space::Global, src, size, size, I, w, l); // reports it
        return;
      }
      // Only the src-size bytes are read (the rest is zero-filled): they
      // must be initialized.
      const uint8_t *p = x.access(Space::Global, src, srcBytes, 1, I, w, l,
                                  Exec::Use::Read);
      if (!p)
        return;
      std::memcpy(c.data, p, srcBytes);
    }
    x.prof.cpAsyncBytes += size;
    w.pending[l].push_back(c);
    x.shadowCopyPending(uint32_t(dst), size, +1);
  });
}

void ringrt::emu::completeCopies(Warp &w, unsigned lane, uint32_t limit,
                                 Exec &x) {
  auto &q = w.pending[lane];
  size_t kept = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i].group < limit) {
      // The copy lands now: it is a write by this thread, ordered after the
      // cp.async and before the wait that completes it.
      x.shadowCopyPending(uint32_t(q[i].dst), q[i].bytes, -1);
      x.checkShared(w, lane, uint32_t(q[i].dst), q[i].bytes, true,
                    q[i].instr);
      std::memcpy(x.shared.data() + q[i].dst, q[i].data, q[i].bytes);
      x.prof.sharedBytes += q[i].bytes;
    } else {
      q[kept++] = q[i];
    }
  }
  q.resize(kept);
}

static void ldmatrix(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned n = I.mode, rows = 8 * n;
  if ((mask & ((rows == 32) ? ~0u : ((1u << rows) - 1))) !=
      ((rows == 32) ? ~0u : ((1u << rows) - 1))) {
    x.fault(I, w, __builtin_ctz(mask),
            "ldmatrix needs the row addresses of lanes 0.." +
                std::to_string(rows - 1));
    return;
  }
  // m[j][r][c]: element (r, c) of matrix j; lane 8*j + r supplies row r.
  uint16_t m[4][8][8];
  for (unsigned t = 0; t < rows; ++t) {
    const uint8_t *p = x.access(I.space, x.address(I.ops[1], w, t), 16, 16,
                                I, w, t, Exec::Use::Read);
    if (!p)
      return;
    std::memcpy(m[t / 8][t % 8], p, 16);
  }
  ++x.prof.ldmatrix;
  const bool trans = I.flags & FlagTrans;
  forLanes(mask, [&](unsigned l) {
    unsigned r = l / 4, c = 2 * (l % 4);
    for (unsigned j = 0; j < n; ++j) {
      uint32_t lo = trans ? m[j][c][r] : m[j][r][c];
      uint32_t hi = trans ? m[j][c + 1][r] : m[j][r][c + 1];
      x.write(x.elem(I.ops[0], j), w, l, lo | (hi << 16));
    }
  });
}

/// stmatrix: the inverse of ldmatrix. Register j of lane l holds elements
/// (l/4, 2*(l%4)) and (l/4, 2*(l%4)+1) of matrix j (PTX ISA, stmatrix
/// fragment layout); lanes 8j..8j+7 give the addresses of the 8 rows of
/// matrix j. With .trans element (r, c) is stored at row c, column r.
static void stmatrix(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned n = I.mode, rows = 8 * n;
  if (mask != ~0u) {
    x.fault(I, w, __builtin_ctz(mask),
            "stmatrix.sync.aligned executed by a partial warp");
    return;
  }
  uint16_t m[4][8][8];
  const bool trans = I.flags & FlagTrans;
  for (unsigned l = 0; l < kWarpSize; ++l) {
    unsigned r = l / 4, c = 2 * (l % 4);
    for (unsigned j = 0; j < n; ++j) {
      uint32_t v = uint32_t(x.read(x.elem(I.ops[1], j), w, l));
      uint16_t lo = uint16_t(v), hi = uint16_t(v >> 16);
      if (trans) {
        m[j][c][r] = lo;
        m[j][c + 1][r] = hi;
      } else {
        m[j][r][c] = lo;
        m[j][r][c + 1] = hi;
      }
    }
  }
  if (x.failed)
    return;
  uint8_t *dst[32];
  for (unsigned t = 0; t < rows; ++t) {
    dst[t] = x.access(I.space, x.address(I.ops[0], w, t), 16, 16, I, w, t,
                      Exec::Use::Write);
    if (!dst[t])
      return;
  }
  for (unsigned t = 0; t < rows; ++t)
    std::memcpy(dst[t], m[t / 8][t % 8], 16);
  ++x.prof.stmatrix;
}

void ringrt::emu::execMemory(const Instr &I, Warp &w, uint32_t mask,
                             Exec &x) {
  switch (I.op) {
  case Opcode::Ld:
    return load(I, w, mask, x);
  case Opcode::St:
    return store(I, w, mask, x);
  case Opcode::Cvta:
  case Opcode::CvtaTo:
    return cvta(I, w, mask, x);
  case Opcode::CpAsync:
    return cpAsync(I, w, mask, x);
  case Opcode::CpAsyncCommit:
    forLanes(mask, [&](unsigned l) { ++w.openGroup[l]; });
    return;
  case Opcode::CpAsyncWait:
    forLanes(mask, [&](unsigned l) {
      uint32_t open = w.openGroup[l];
      if (I.flags & FlagAll) {
        completeCopies(w, l, UINT32_MAX, x);
        return;
      }
      uint64_t n = x.read(I.ops[0], w, l);
      if (n < open)
        completeCopies(w, l, uint32_t(open - n), x);
    });
    return;
  case Opcode::Ldmatrix:
    return ldmatrix(I, w, mask, x);
  case Opcode::Stmatrix:
    return stmatrix(I, w, mask, x);
  default:
    x.fault(I, w, __builtin_ctz(mask), "internal: not a memory op");
  }
}
