//===- Exec.h - Emulator execution state ----------------------------*- C++ -*-===//
//
// This file declares the state of a running launch (Exec), of a warp (Warp)
// and the handlers of each opcode group. Warps run 32 lanes in lockstep over
// an active mask; every handler executes one instruction for the lanes of
// `mask`.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_EXEC_H
#define RINGRT_EMU_LIB_EXEC_H

#include "Instr.h"

#include <string>
#include <vector>

namespace ringrt::emu {

constexpr unsigned kWarpSize = 32;

/// A cp.async issued but not yet completed by a wait.
struct PendingCopy {
  uint64_t dst; ///< shared-window address
  uint32_t group;
  uint8_t bytes;
  uint8_t data[16];
};

/// One warp of the current CTA.
struct Warp {
  unsigned index = 0;
  uint32_t live = 0;    ///< lanes that are threads of the block
  uint32_t exited = 0;  ///< lanes that executed ret/exit
  uint32_t waiting = 0; ///< lanes blocked in bar.sync
  uint32_t pc[kWarpSize] = {};
  uint8_t barrierId[kWarpSize] = {};
  unsigned tid[kWarpSize][3] = {};
  std::vector<uint64_t> regs; ///< numRegs x 32 lanes
  std::vector<PendingCopy> pending[kWarpSize];
  uint32_t openGroup[kWarpSize] = {};

  uint64_t &reg(uint32_t r, unsigned lane) { return regs[r * kWarpSize + lane]; }
};

/// State of one launch.
class Exec {
public:
  Exec(const Kernel &k, Memory &mem) : k(k), mem(mem) {}

  /// Raw bits of a non-address operand for `lane`.
  uint64_t read(const Operand &o, Warp &w, unsigned lane);
  /// Address `base + offset` of an address operand.
  uint64_t address(const Operand &o, Warp &w, unsigned lane) {
    return read(o, w, lane) + uint64_t(o.imm);
  }
  /// Writes `v` (already sized to the operation type) to a register or sink.
  void write(const Operand &o, Warp &w, unsigned lane, uint64_t v) {
    if (o.kind == Operand::Reg)
      w.reg(o.index, lane) = v;
  }
  /// The i-th element of a vector operand (or the operand itself).
  const Operand &elem(const Operand &o, unsigned i) const {
    return o.kind == Operand::Vector ? k.vecPool[o.index + i] : o;
  }

  /// Checks an access of `bytes` at `addr` in `space` and returns the host
  /// pointer, or null after recording a fault. Generic addresses resolve to
  /// the CTA's shared window or to registered global memory.
  uint8_t *access(Space space, uint64_t addr, unsigned bytes, unsigned align,
                  const Instr &I, Warp &w, unsigned lane);
  /// Records the first fault: kernel, CTA, thread, instruction and `what`.
  void fault(const Instr &I, Warp &w, unsigned lane, const std::string &what);

  const Kernel &k;
  Memory &mem;
  Dim3 grid, block, ctaid;
  std::vector<uint8_t> params;
  std::vector<uint8_t> shared;
  unsigned dynamicShared = 0;
  unsigned warpsPerCta = 0;
  Profile prof;
  bool failed = false;
  std::string error;
};

/// Handlers, one per opcode group.
void execArith(const Instr &I, Warp &w, uint32_t mask, Exec &x);
void execConvert(const Instr &I, Warp &w, uint32_t mask, Exec &x);
void execMemory(const Instr &I, Warp &w, uint32_t mask, Exec &x);
void execWarp(const Instr &I, Warp &w, uint32_t mask, Exec &x);
/// Completes the cp.async copies of `lane` with group < `limit`.
void completeCopies(Warp &w, unsigned lane, uint32_t limit, Exec &x);

/// Iterates over the set bits of `mask`.
template <typename F> inline void forLanes(uint32_t mask, F f) {
  while (mask) {
    unsigned lane = unsigned(__builtin_ctz(mask));
    mask &= mask - 1;
    f(lane);
  }
}

/// Bits of an integer type of `bytes` bytes.
inline uint64_t widthMask(unsigned bytes) {
  return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}
/// Sign-extends the low `bytes` bytes of `v`.
inline int64_t signExtend(uint64_t v, unsigned bytes) {
  if (bytes >= 8)
    return int64_t(v);
  unsigned s = 64 - 8 * bytes;
  return int64_t(v << s) >> s;
}

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_EXEC_H
