//===- Executor.cpp - Grid, CTA and warp scheduling ---------------*- C++ -*-===//
//
// This file implements launch(): parameter marshalling, CTA-by-CTA
// execution with per-CTA shared memory, warp scheduling around bar.sync,
// and control flow. Divergence uses min-PC scheduling: each lane has its own
// PC, and a warp issues the instruction at the smallest PC among its
// runnable lanes, so lanes reconverge as soon as their PCs meet.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"

#include <cstdio>
#include <cstring>

using namespace ringrt::emu;

static std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
  return buf;
}

void Exec::fault(const Instr &I, Warp &w, unsigned lane,
                 const std::string &what) {
  if (failed)
    return;
  failed = true;
  size_t idx = size_t(&I - k.code.data());
  error = "kernel '" + k.name + "', CTA (" + std::to_string(ctaid.x) + "," +
          std::to_string(ctaid.y) + "," + std::to_string(ctaid.z) +
          "), thread (" + std::to_string(w.tid[lane][0]) + "," +
          std::to_string(w.tid[lane][1]) + "," +
          std::to_string(w.tid[lane][2]) + "), PTX line " +
          std::to_string(I.line) + " '" + k.text[idx] + "': " + what;
}

uint8_t *Exec::access(Space space, uint64_t addr, unsigned bytes,
                      unsigned align, const Instr &I, Warp &w, unsigned lane) {
  auto desc = [&](const char *kind, Space s) {
    return std::string(kind) + " " + spaceName(s) + " access of " +
           std::to_string(bytes) + " bytes at address " + hex(addr);
  };
  if (align > 1 && addr % align) {
    fault(I, w, lane, desc("misaligned", space) + " (needs " +
                          std::to_string(align) + "-byte alignment)");
    return nullptr;
  }
  uint64_t sharedBase = reinterpret_cast<uint64_t>(shared.data());
  switch (space) {
  case Space::Shared:
    if (addr >= shared.size() || bytes > shared.size() - addr) {
      fault(I, w, lane, desc("out-of-bounds", space) + " (shared size " +
                            std::to_string(shared.size()) + ")");
      return nullptr;
    }
    prof.sharedBytes += bytes;
    return shared.data() + addr;
  case Space::Param:
    if (addr >= params.size() || bytes > params.size() - addr) {
      fault(I, w, lane, desc("out-of-bounds", space));
      return nullptr;
    }
    return params.data() + addr;
  case Space::Generic:
    if (addr >= sharedBase && addr - sharedBase < shared.size())
      return access(Space::Shared, addr - sharedBase, bytes, 1, I, w, lane);
    [[fallthrough]];
  case Space::Global:
    if (!mem.contains(addr, bytes)) {
      fault(I, w, lane, desc("out-of-bounds", space) +
                            " (not inside any device allocation)");
      return nullptr;
    }
    prof.globalBytes += bytes;
    return reinterpret_cast<uint8_t *>(addr);
  default:
    fault(I, w, lane, std::string("unsupported state space ") +
                          spaceName(space));
    return nullptr;
  }
}

uint64_t Exec::read(const Operand &o, Warp &w, unsigned lane) {
  switch (o.kind) {
  case Operand::Reg: {
    uint64_t v = w.reg(o.index, lane);
    return o.negated ? !v : v;
  }
  case Operand::Imm:
    return o.isAddr ? 0 : uint64_t(o.imm);
  case Operand::Symbol:
    return k.symbols[o.index].value;
  case Operand::Special: {
    switch (SpecialReg(o.special)) {
    case SpecialReg::TidX: return w.tid[lane][0];
    case SpecialReg::TidY: return w.tid[lane][1];
    case SpecialReg::TidZ: return w.tid[lane][2];
    case SpecialReg::NtidX: return block.x;
    case SpecialReg::NtidY: return block.y;
    case SpecialReg::NtidZ: return block.z;
    case SpecialReg::CtaidX: return ctaid.x;
    case SpecialReg::CtaidY: return ctaid.y;
    case SpecialReg::CtaidZ: return ctaid.z;
    case SpecialReg::NctaidX: return grid.x;
    case SpecialReg::NctaidY: return grid.y;
    case SpecialReg::NctaidZ: return grid.z;
    case SpecialReg::LaneId: return lane;
    case SpecialReg::WarpId: return w.index;
    case SpecialReg::NWarpId: return warpsPerCta;
    case SpecialReg::Clock: return uint32_t(prof.instructions);
    case SpecialReg::Clock64: return prof.instructions;
    case SpecialReg::LanemaskEq: return 1u << lane;
    case SpecialReg::LanemaskLt: return (1u << lane) - 1;
    case SpecialReg::LanemaskLe: return uint32_t((2ull << lane) - 1);
    case SpecialReg::LanemaskGt: return uint32_t(~((2ull << lane) - 1));
    case SpecialReg::LanemaskGe: return ~((1u << lane) - 1);
    case SpecialReg::DynamicSmemSize: return dynamicShared;
    case SpecialReg::TotalSmemSize: return shared.size();
    }
    return 0;
  }
  default:
    return 0;
  }
}

namespace {
/// Runs the warps of one CTA to completion.
class CtaRunner {
public:
  explicit CtaRunner(Exec &x) : x(x) {}
  bool run();

private:
  /// Issues instructions of `w` until it finishes or blocks in bar.sync.
  void runWarp(Warp &w);
  /// Releases barrier waiters once every live thread has arrived.
  bool releaseBarriers();

  Exec &x;
  std::vector<Warp> warps;
};
} // namespace

void CtaRunner::runWarp(Warp &w) {
  const Kernel &k = x.k;
  const uint32_t numInstrs = uint32_t(k.code.size());
  for (;;) {
    uint32_t runnable = w.live & ~w.exited & ~w.waiting;
    if (!runnable || x.failed)
      return;
    // Min-PC scheduling: issue for the lanes at the smallest PC.
    uint32_t pc = UINT32_MAX, mask = 0;
    forLanes(runnable, [&](unsigned l) {
      if (w.pc[l] < pc) {
        pc = w.pc[l];
        mask = 0;
      }
      if (w.pc[l] == pc)
        mask |= 1u << l;
    });
    if (pc >= numInstrs) { // fell off the end: implicit ret
      w.exited |= mask;
      continue;
    }
    const Instr &I = k.code[pc];
    uint32_t exec = mask;
    if (I.guard >= 0) {
      exec = 0;
      forLanes(mask, [&](unsigned l) {
        if ((w.reg(uint32_t(I.guard), l) != 0) != I.guardNeg)
          exec |= 1u << l;
      });
    }
    ++x.prof.instructions;
    x.prof.laneInstructions += uint64_t(__builtin_popcount(exec));
    forLanes(mask, [&](unsigned l) { w.pc[l] = pc + 1; });
    if (!exec)
      continue;
    switch (I.op) {
    case Opcode::Bra:
      forLanes(exec, [&](unsigned l) { w.pc[l] = I.ops[0].index; });
      break;
    case Opcode::Ret:
    case Opcode::Exit:
      forLanes(exec, [&](unsigned l) { completeCopies(w, l, UINT32_MAX, x); });
      w.exited |= exec;
      break;
    case Opcode::Bar: {
      uint64_t id = x.read(I.ops[0], w, __builtin_ctz(exec));
      if (id >= 16 || I.numOps > 1) {
        x.fault(I, w, __builtin_ctz(exec),
                "only bar.sync with barrier 0..15 and no thread count is "
                "supported");
        return;
      }
      forLanes(exec, [&](unsigned l) { w.barrierId[l] = uint8_t(id); });
      w.waiting |= exec;
      break;
    }
    case Opcode::Nop:
      break;
    case Opcode::Ld: case Opcode::St: case Opcode::Cvta: case Opcode::CvtaTo:
    case Opcode::CpAsync: case Opcode::CpAsyncCommit:
    case Opcode::CpAsyncWait: case Opcode::Ldmatrix:
      execMemory(I, w, exec, x);
      break;
    case Opcode::Shfl: case Opcode::Vote: case Opcode::Mma:
      execWarp(I, w, exec, x);
      break;
    case Opcode::Cvt:
      execConvert(I, w, exec, x);
      break;
    default:
      execArith(I, w, exec, x);
      break;
    }
  }
}

bool CtaRunner::releaseBarriers() {
  // A barrier completes when every thread that has not exited waits on it.
  uint32_t waitingThreads = 0, liveThreads = 0;
  for (Warp &w : warps) {
    waitingThreads += unsigned(__builtin_popcount(w.waiting));
    liveThreads += unsigned(__builtin_popcount(w.live & ~w.exited));
  }
  if (waitingThreads == 0 || waitingThreads != liveThreads)
    return false;
  for (Warp &w : warps) {
    uint8_t id = 0;
    bool first = true;
    forLanes(w.waiting, [&](unsigned l) {
      if (first)
        id = w.barrierId[l];
      first = false;
      if (w.barrierId[l] != id && !x.failed) {
        const Instr &I = x.k.code[w.pc[l] - 1];
        x.fault(I, w, l, "threads of the CTA wait on different barriers");
      }
    });
    w.waiting = 0;
  }
  ++x.prof.barriers;
  return !x.failed;
}

bool CtaRunner::run() {
  const Dim3 &b = x.block;
  unsigned threads = b.x * b.y * b.z;
  unsigned numWarps = (threads + kWarpSize - 1) / kWarpSize;
  x.warpsPerCta = numWarps;
  warps.resize(numWarps);
  for (unsigned wi = 0; wi < numWarps; ++wi) {
    Warp &w = warps[wi];
    w.index = wi;
    w.regs.assign(size_t(x.k.numRegs) * kWarpSize, 0);
    for (unsigned l = 0; l < kWarpSize; ++l) {
      unsigned t = wi * kWarpSize + l;
      if (t < threads)
        w.live |= 1u << l;
      w.tid[l][0] = t % b.x;
      w.tid[l][1] = (t / b.x) % b.y;
      w.tid[l][2] = t / (b.x * b.y);
    }
  }
  for (;;) {
    for (Warp &w : warps)
      runWarp(w);
    if (x.failed)
      return false;
    bool anyBlocked = false;
    for (Warp &w : warps)
      anyBlocked |= w.waiting != 0;
    if (!anyBlocked)
      return true;
    if (!releaseBarriers()) {
      if (!x.failed) {
        for (Warp &w : warps)
          if (w.waiting) {
            unsigned l = unsigned(__builtin_ctz(w.waiting));
            x.fault(x.k.code[w.pc[l] - 1], w, l,
                    "deadlock: bar.sync can never complete");
            break;
          }
      }
      return false;
    }
  }
}

bool ringrt::emu::launch(const Module &module, std::string_view kernel,
                         Dim3 grid, Dim3 block, unsigned dynamicSharedBytes,
                         void **params, Memory &mem, std::string &error,
                         Profile *profile) {
  const Kernel *k = module.findKernel(kernel);
  if (!k) {
    error = "no kernel named '" + std::string(kernel) + "' in the module";
    return false;
  }
  unsigned threads = block.x * block.y * block.z;
  if (!threads || threads > 1024 || !grid.x || !grid.y || !grid.z) {
    error = "invalid launch configuration for kernel '" + k->name + "'";
    return false;
  }
  if (k->maxntid && threads > k->maxntid) {
    error = "kernel '" + k->name + "': block of " + std::to_string(threads) +
            " threads exceeds .maxntid " + std::to_string(k->maxntid);
    return false;
  }
  if (k->reqntid.x && (k->reqntid.x != block.x || k->reqntid.y != block.y ||
                       k->reqntid.z != block.z)) {
    error = "kernel '" + k->name + "': block does not match .reqntid";
    return false;
  }
  Exec x(*k, mem);
  x.grid = grid;
  x.block = block;
  x.dynamicShared = dynamicSharedBytes;
  x.params.assign(k->paramBytes, 0);
  for (size_t i = 0; i < k->params.size(); ++i) {
    if (!params || !params[i]) {
      error = "kernel '" + k->name + "': missing value for parameter " +
              std::to_string(i);
      return false;
    }
    std::memcpy(x.params.data() + k->paramOffsets[i], params[i],
                k->params[i].size);
  }
  size_t sharedBytes = size_t(k->dynSharedOffset) + dynamicSharedBytes;
  if (!dynamicSharedBytes)
    sharedBytes = k->staticShared;
  if (sharedBytes > 227 * 1024) {
    error = "kernel '" + k->name + "': " + std::to_string(sharedBytes) +
            " bytes of shared memory exceed the 227 KiB limit";
    return false;
  }
  for (unsigned cz = 0; cz < grid.z; ++cz)
    for (unsigned cy = 0; cy < grid.y; ++cy)
      for (unsigned cx = 0; cx < grid.x; ++cx) {
        x.ctaid = Dim3{cx, cy, cz};
        // Poison shared memory so reads of unwritten data are visible.
        x.shared.assign(sharedBytes, 0xcd);
        CtaRunner runner(x);
        if (!runner.run()) {
          error = x.error;
          if (profile)
            *profile = x.prof;
          return false;
        }
      }
  if (profile)
    *profile = x.prof;
  return true;
}
