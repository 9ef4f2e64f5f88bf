//===- Scheduler.cpp - Seeded interleaving of the warps of a CTA ---*- C++ -*-===//
//
// This file implements runCta(). The warps of a CTA run in quanta of 1 to 8
// instructions; after each quantum the next warp is drawn at random (seeded)
// among the runnable ones, so a kernel whose result depends on warp timing
// fails under some seed. A warp is not runnable while all its lanes wait in
// a barrier, while it is parked in an mbarrier.try_wait whose phase is
// incomplete, or while it waits at a wgmma for the rest of its warpgroup.
// When no warp can run, or the only runnable warps spin on test_wait with no
// synchronization event in between, the CTA is deadlocked and the error
// names every warp, where it waits and the state of what it waits on.
//
// Within a warp, divergence uses min-PC scheduling: each lane has its own
// PC, and a warp issues the instruction at the smallest PC among its
// runnable lanes, so lanes reconverge as soon as their PCs meet.
//
//===----------------------------------------------------------------------===//

#include "Scheduler.h"

#include <algorithm>
#include <cstdio>

using namespace ringrt::emu;

namespace {
/// splitmix64: a tiny generator whose sequence is the same everywhere (the
/// standard distributions are implementation-defined, so a seed would not
/// reproduce across standard libraries).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

class CtaRunner {
public:
  CtaRunner(Exec &x, const SchedulerConfig &cfg) : x(x), cfg(cfg) {
    rng.s = cfg.seed ^ (uint64_t(x.ctaid.x) << 20) ^
            (uint64_t(x.ctaid.y) << 40) ^ (uint64_t(x.ctaid.z) << 50);
  }
  bool run();

private:
  void step(Warp &w, unsigned quantum);
  void exitLanes(Warp &w, uint32_t lanes);
  bool finished(const Warp &w) const { return !(w.live & ~w.exited); }
  bool runnable(const Warp &w) const {
    return w.park == Park::None && (w.live & ~w.exited & ~w.waiting);
  }
  std::string whereBlocked(Warp &w);
  bool checkWarpgroupRegisters();
  void reportDeadlock(bool spinning);

  Exec &x;
  const SchedulerConfig &cfg;
  Rng rng;
  std::vector<Warp> warps;
};
} // namespace

void CtaRunner::exitLanes(Warp &w, uint32_t lanes) {
  forLanes(lanes, [&](unsigned l) { completeCopies(w, l, UINT32_MAX, x); });
  w.exited |= lanes;
  ++x.epoch;
  if (finished(w))
    for (uint32_t r = 0; r < w.regState.size(); ++r)
      if (w.regState[r] != RegFree) {
        x.fault(w, unsigned(__builtin_ctz(lanes)),
                "exits while the " + x.lineName(w.regInstr[r]) +
                    " that owns register " + x.regName(r) +
                    " is in flight (no wgmma.wait_group retired it)");
        return;
      }
  // Barriers without a thread count wait for every thread that has not
  // exited.
  for (unsigned id = 0; id < 16; ++id)
    if (x.bars[id].arrived && !x.bars[id].expected)
      x.tryCompleteBarrier(id);
}

void CtaRunner::step(Warp &w, unsigned quantum) {
  const Kernel &k = x.k;
  const uint32_t numInstrs = uint32_t(k.code.size());
  for (unsigned q = 0; q < quantum; ++q) {
    if (x.failed || w.park != Park::None)
      return;
    uint32_t run = w.live & ~w.exited & ~w.waiting;
    if (!run)
      return;
    // Min-PC scheduling: issue for the lanes at the smallest PC.
    uint32_t pc = UINT32_MAX, mask = 0;
    forLanes(run, [&](unsigned l) {
      if (w.pc[l] < pc) {
        pc = w.pc[l];
        mask = 0;
      }
      if (w.pc[l] == pc)
        mask |= 1u << l;
    });
    if (pc >= numInstrs) { // fell off the end: implicit ret
      exitLanes(w, mask);
      continue;
    }
    const Instr &I = k.code[pc];
    x.cur = &I;
    ++w.tick;
    uint32_t exec = mask;
    if (I.guard >= 0) {
      exec = 0;
      const uint32_t g = uint32_t(I.guard);
      if ((w.valid[g] & mask) != mask) {
        x.fault(w, unsigned(__builtin_ctz(mask & ~w.valid[g])),
                "reads guard predicate " + x.regName(g) +
                    " before any write to it");
        return;
      }
      forLanes(mask, [&](unsigned l) {
        if ((w.reg(g, l) != 0) != I.guardNeg)
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
      exitLanes(w, exec);
      break;
    case Opcode::Nop:
      break;
    case Opcode::Bar: case Opcode::Mbarrier: case Opcode::FenceProxyAsync:
    case Opcode::Elect: case Opcode::Setmaxnreg:
      execSync(I, w, exec, x);
      break;
    case Opcode::WgmmaFence: case Opcode::WgmmaCommit: case Opcode::WgmmaWait:
    case Opcode::Wgmma:
      execWgmma(I, w, exec, x);
      break;
    case Opcode::TmaLoad: case Opcode::TmaStore: case Opcode::BulkCommit:
    case Opcode::BulkWait:
      execTma(I, w, exec, x);
      break;
    case Opcode::Ld: case Opcode::St: case Opcode::Cvta: case Opcode::CvtaTo:
    case Opcode::CpAsync: case Opcode::CpAsyncCommit:
    case Opcode::CpAsyncWait: case Opcode::Ldmatrix: case Opcode::Stmatrix:
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

std::string CtaRunner::whereBlocked(Warp &w) {
  unsigned first = w.index * kWarpSize;
  std::string s = "warp " + std::to_string(w.index) + " (threads " +
                  std::to_string(first) + "-" +
                  std::to_string(first + kWarpSize - 1) + ") ";
  auto mbarState = [&](uint32_t addr) {
    auto it = x.mbars.find(addr);
    if (it == x.mbars.end())
      return std::string("the uninitialized mbarrier at shared address ") +
             hexAddr(addr);
    const MBarrier &mb = it->second;
    return "the mbarrier at shared address " + hexAddr(addr) +
           " (current phase " + std::to_string(mb.phase) + ", parity " +
           std::to_string(mb.phase & 1) + ": " + std::to_string(mb.pending) +
           " of " + std::to_string(mb.expected) +
           " arrivals pending, tx-count " + std::to_string(mb.tx) + ")";
  };
  if (w.park == Park::Mbarrier)
    return s + "waits at " + x.lineName(w.parkInstr) + " on " +
           mbarState(w.parkAddr);
  if (w.park == Park::Wgmma) {
    unsigned g = w.index / 4;
    std::string arrived;
    for (unsigned i = 0; i < 4; ++i)
      if (x.wgArrived[g] & (1u << i))
        arrived += (arrived.empty() ? "" : ",") + std::to_string(4 * g + i);
    return s + "waits at " + x.lineName(w.parkInstr) +
           " for the other warps of warpgroup " + std::to_string(g) +
           " (arrived: warps " + arrived + ")";
  }
  if (w.park == Park::Setmaxnreg)
    return s + "waits at " + x.lineName(w.parkInstr) + " for " +
           std::to_string(x.k.code[w.parkInstr].ops[0].imm) +
           " registers per thread (it holds " + std::to_string(w.nreg) +
           "; the CTA's free pool has " + std::to_string(x.regPool) +
           " registers, and setmaxnreg.dec by other warps is what fills it)";
  if (w.waiting) {
    unsigned l = unsigned(__builtin_ctz(w.waiting));
    unsigned id = w.barrierId[l];
    const NamedBarrier &b = x.bars[id];
    unsigned live = 0;
    for (Warp &o : warps)
      live += unsigned(__builtin_popcount(o.live & ~o.exited));
    return s + "waits at " + x.lineName(w.pc[l] - 1) + " in barrier " +
           std::to_string(id) + " (" + std::to_string(b.arrived) + " of " +
           std::to_string(b.expected ? b.expected : live) +
           " threads arrived)";
  }
  if (w.spinEpoch == x.epoch)
    return s + "spins in a wait loop on " + mbarState(w.parkAddr);
  return s + "is runnable";
}

void CtaRunner::reportDeadlock(bool spinning) {
  std::string what;
  Warp *first = nullptr;
  for (Warp &w : warps) {
    if (finished(w))
      continue;
    if (!first)
      first = &w;
    what += (what.empty() ? "" : "; ") + whereBlocked(w);
  }
  unsigned lane = unsigned(__builtin_ctz(first->live & ~first->exited));
  uint32_t idx = first->park != Park::None ? first->parkInstr
                 : first->waiting ? first->pc[__builtin_ctz(first->waiting)] - 1
                                  : first->pc[lane] - 1;
  x.fault(x.k.code[std::min<size_t>(idx, x.k.code.size() - 1)], *first, lane,
          std::string(spinning ? "deadlock: the only runnable warps spin on "
                                 "mbarrier phases that nothing can complete"
                               : "deadlock: every unfinished warp of the "
                                 "CTA is blocked") +
              ": " + what);
}

/// setmaxnreg is .sync.aligned over the warpgroup: all its warps must end
/// with the same register count.
bool CtaRunner::checkWarpgroupRegisters() {
  for (size_t g = 0; g + 4 <= warps.size(); g += 4)
    for (size_t i = 1; i < 4; ++i)
      if (warps[g + i].nreg != warps[g].nreg) {
        Warp &w = warps[g + i];
        x.fault(x.k.code[std::min<size_t>(w.parkInstr, x.k.code.size() - 1)],
                w, 0,
                "the warps of warpgroup " + std::to_string(g / 4) +
                    " hold different register counts (warp " +
                    std::to_string(g) + ": " + std::to_string(warps[g].nreg) +
                    ", warp " + std::to_string(g + i) + ": " +
                    std::to_string(w.nreg) +
                    "): setmaxnreg must be executed by all four warps of a "
                    "warpgroup");
        return false;
      }
  return true;
}

bool CtaRunner::run() {
  const Dim3 &b = x.block;
  unsigned threads = b.x * b.y * b.z;
  unsigned numWarps = (threads + kWarpSize - 1) / kWarpSize;
  x.warpsPerCta = numWarps;
  warps.resize(numWarps);
  const size_t nr = x.k.numRegs;
  for (unsigned wi = 0; wi < numWarps; ++wi) {
    Warp &w = warps[wi];
    w.index = wi;
    w.regs.assign(nr * kWarpSize, 0);
    w.valid.assign(nr, 0);
    w.regState.assign(nr, RegFree);
    w.regGroup.assign(nr, 0);
    w.regInstr.assign(nr, 0);
    w.lastWrite.assign(nr, 0);
    w.vc.c[wi] = 1;
    for (unsigned l = 0; l < kWarpSize; ++l) {
      unsigned t = wi * kWarpSize + l;
      if (t < threads)
        w.live |= 1u << l;
      w.tid[l][0] = t % b.x;
      w.tid[l][1] = (t / b.x) % b.y;
      w.tid[l][2] = t / (b.x * b.y);
    }
  }
  x.warps = &warps;
  for (NamedBarrier &nb : x.bars)
    nb = NamedBarrier();
  x.mbars.clear();
  x.wgmmaOps.clear();
  for (unsigned g = 0; g < 8; ++g)
    x.wgArrived[g] = 0;
  x.shadow.reset(x.shared.size(), numWarps);
  x.deferredError.clear();
  // Registers per thread at launch: .maxnreg, or the most 64K registers
  // allow for the block (what ptxas may allocate at one CTA per SM); the
  // rest of the register file is the pool setmaxnreg draws from.
  unsigned cap = std::min(256u, 65536u / (numWarps * kWarpSize) / 8 * 8);
  unsigned nreg = x.k.maxnreg ? std::min(x.k.maxnreg, cap) : cap;
  x.regPool = 65536 - int64_t(nreg) * numWarps * kWarpSize;
  for (Warp &w : warps)
    w.nreg = nreg;
  const uint64_t start = x.prof.instructions;
  unsigned cand[kMaxWarps];
  for (;;) {
    if (x.failed)
      return false;
    unsigned n = 0, spinners = 0;
    bool alive = false;
    for (Warp &w : warps) {
      if (finished(w))
        continue;
      alive = true;
      if (runnable(w)) {
        cand[n++] = w.index;
        spinners += w.spinEpoch == x.epoch && w.spins > 64;
      }
    }
    if (!alive) {
      if (!x.deferredError.empty()) {
        x.failed = true;
        x.error = x.deferredError;
        return false;
      }
      return checkWarpgroupRegisters();
    }
    if (!n || spinners == n) {
      reportDeadlock(n != 0);
      return false;
    }
    Warp &w = warps[cand[n == 1 ? 0 : rng.next() % n]];
    step(w, 1 + unsigned(rng.next() % 8));
    if (x.prof.instructions - start > cfg.maxInstructions && !x.failed) {
      unsigned lane = unsigned(__builtin_ctz(w.live));
      x.fault(x.k.code[std::min<size_t>(w.pc[lane], x.k.code.size() - 1)], w,
              lane,
              "the CTA executed more than " +
                  std::to_string(cfg.maxInstructions) +
                  " warp instructions; stopped as a runaway (an endless "
                  "loop, or LaunchOptions::maxInstructions is too small)");
      return false;
    }
  }
}

bool ringrt::emu::runCta(Exec &x, const SchedulerConfig &cfg) {
  CtaRunner r(x, cfg);
  return r.run();
}
