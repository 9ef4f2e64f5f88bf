//===- ExecSync.cpp - Barriers, mbarriers, fences, elect, setmaxnreg -*- C++ -*-===//
//
// This file implements the CTA synchronization instructions and their
// happens-before edges for the race checker:
//  - bar.sync/barrier.sync (named barriers 0..15, with or without a thread
//    count) release and acquire; bar.arrive/barrier.arrive only release.
//  - mbarrier.arrive{.expect_tx} releases into the current phase; a
//    test_wait/try_wait that observes the phase completed acquires every
//    release of the completed phases. A phase completes when its pending
//    arrival count and its tx-count are both zero (PTX ISA, mbarrier).
//  - fence.proxy.async counts per thread, for the proxy check of Shadow.cpp.
//  - elect.sync elects the lowest active member lane; setmaxnreg is checked.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"

#include <cstdio>

using namespace ringrt::emu;

void Exec::tryCompleteBarrier(unsigned id) {
  NamedBarrier &b = bars[id];
  if (!b.arrived)
    return;
  uint32_t needed = b.expected;
  if (!needed)
    for (Warp &w : *warps)
      needed += unsigned(__builtin_popcount(w.live & ~w.exited));
  if (b.arrived < needed)
    return;
  for (Warp &w : *warps) {
    uint32_t release = 0;
    forLanes(w.waiting, [&](unsigned l) {
      if (w.barrierId[l] == id)
        release |= 1u << l;
    });
    if (release) {
      w.waiting &= ~release;
      w.vc.join(b.vc);
    }
  }
  b = NamedBarrier();
  ++prof.barriers;
  ++epoch;
}

void Exec::tryCompletePhase(uint32_t addr, MBarrier &mb) {
  if (mb.pending != 0 || mb.tx != 0 || !mb.expected)
    return;
  mb.done.join(mb.cur);
  mb.cur.clear();
  ++mb.phase;
  mb.pending = mb.expected;
  ++epoch;
  for (Warp &w : *warps)
    if (w.park == Park::Mbarrier && w.parkAddr == addr)
      w.park = Park::None;
}

static void bar(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  unsigned lane0 = unsigned(__builtin_ctz(exec));
  uint64_t id = x.read(I.ops[0], w, lane0);
  uint64_t count = I.numOps > 1 ? x.read(I.ops[1], w, lane0) : 0;
  unsigned threads = x.block.x * x.block.y * x.block.z;
  if (id >= 16) {
    x.fault(w, lane0, "barrier id " + std::to_string(id) +
                          " is out of range (valid: 0..15)");
    return;
  }
  if (I.numOps > 1 &&
      (count == 0 || count % kWarpSize || count > ((threads + 31) & ~31u))) {
    x.fault(w, lane0, "barrier thread count " + std::to_string(count) +
                          " must be a nonzero multiple of 32 no larger than "
                          "the block (" +
                          std::to_string(threads) + " threads)");
    return;
  }
  bool uniform = true;
  forLanes(exec, [&](unsigned l) {
    uniform &= x.read(I.ops[0], w, l) == id &&
               (I.numOps < 2 || x.read(I.ops[1], w, l) == count);
  });
  if (!uniform) {
    x.fault(w, lane0, "the threads of a warp name different barriers or "
                      "thread counts");
    return;
  }
  if ((I.flags & FlagAligned) && exec != (w.live & ~w.exited)) {
    x.fault(w, lane0, "executed by a diverged warp: the .aligned barrier "
                      "needs every non-exited thread of the warp");
    return;
  }
  NamedBarrier &b = x.bars[id];
  if (!b.arrived) {
    b.expected = uint32_t(count);
    b.instr = x.instrIndex(I);
  } else if (b.expected != count) {
    x.fault(w, lane0,
            "barrier " + std::to_string(id) + " used with thread count " +
                (count ? std::to_string(count) : std::string("'all'")) +
                " while threads that arrived at " + x.lineName(b.instr) +
                " use " +
                (b.expected ? std::to_string(b.expected)
                            : std::string("'all'")));
    return;
  }
  b.arrived += unsigned(__builtin_popcount(exec));
  b.vc.join(w.vc);
  ++w.vc.c[w.index];
  if (b.expected && b.arrived > b.expected) {
    x.fault(w, lane0, "barrier " + std::to_string(id) + ": " +
                          std::to_string(b.arrived) +
                          " threads arrived but its thread count is " +
                          std::to_string(b.expected));
    return;
  }
  if (!(I.flags & FlagArriveOnly)) {
    forLanes(exec, [&](unsigned l) { w.barrierId[l] = uint8_t(id); });
    w.waiting |= exec;
  }
  ++x.epoch;
  x.tryCompleteBarrier(unsigned(id));
}

/// Index of the address operand of an mbarrier instruction.
static unsigned mbarAddrOperand(MbarOp op) {
  switch (op) {
  case MbarOp::Arrive: case MbarOp::ArriveDrop: case MbarOp::TestWait:
  case MbarOp::TryWait:
    return 1;
  default:
    return 0;
  }
}

static void mbarrierLanes(const Instr &I, Warp &w, uint32_t exec, Exec &x);

static void mbarrier(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  x.mbarrierOp = true;
  mbarrierLanes(I, w, exec, x);
  x.mbarrierOp = false;
}

static void mbarrierLanes(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  const MbarOp op = MbarOp(I.mode);
  const unsigned ai = mbarAddrOperand(op);
  const uint32_t idx = x.instrIndex(I);
  bool anyFailed = false, anyDone = false;
  uint32_t failedAddr = 0;
  bool released = false;
  forLanes(exec, [&](unsigned l) {
    if (x.failed)
      return;
    uint32_t off;
    if (!x.sharedOffset(I.space, x.address(I.ops[ai], w, l), 8, 8, I, w, l,
                        off))
      return;
    if (op == MbarOp::Init) {
      uint64_t count = x.read(I.ops[1], w, l);
      if (count < 1 || count >= (1u << 20)) {
        x.fault(w, l, "mbarrier.init count " + std::to_string(count) +
                          " is out of range (valid: 1..1048575)");
        return;
      }
      // Initialization is a write of the object: other threads must be
      // ordered after it (bar.sync after mbarrier.init).
      x.checkShared(w, l, off, 8, true, idx);
      for (uint32_t g = off / 4; g < off / 4 + 2 && g < x.shadow.size; ++g)
        x.shadow.gran[g].wFlags |= GranMbarrier;
      MBarrier &mb = x.mbars[off];
      mb = MBarrier();
      mb.expected = uint32_t(count);
      mb.pending = int64_t(count);
      mb.initInstr = idx;
      mb.initWarp = uint8_t(w.index);
      mb.initLane = uint8_t(l);
      mb.initFence = w.initFence[l];
      ++x.epoch;
      return;
    }
    auto it = x.mbars.find(off);
    if (it == x.mbars.end()) {
      x.fault(w, l, "no initialized mbarrier at shared address " +
                        hexAddr(off) + " (mbarrier.init it first)");
      return;
    }
    x.checkShared(w, l, off, 8, false, idx);
    if (x.failed)
      return;
    MBarrier &mb = it->second;
    switch (op) {
    case MbarOp::Arrive:
    case MbarOp::ArriveDrop: {
      uint64_t count = 1;
      if (I.flags & FlagExpectTx)
        mb.tx += int64_t(x.read(I.ops[2], w, l));
      else if (I.numOps > 2)
        count = x.read(I.ops[2], w, l);
      if (count == 0 || int64_t(count) > mb.pending) {
        x.fault(w, l, "mbarrier at shared address " + hexAddr(off) +
                          ": arrive count " + std::to_string(count) +
                          " exceeds the " + std::to_string(mb.pending) +
                          " arrivals pending in phase " +
                          std::to_string(mb.phase));
        return;
      }
      x.write(I.ops[0], w, l, mb.phase);
      mb.pending -= int64_t(count);
      if (op == MbarOp::ArriveDrop)
        mb.expected -= uint32_t(count);
      mb.cur.join(w.vc);
      released = true;
      ++x.epoch;
      x.tryCompletePhase(off, mb);
      return;
    }
    case MbarOp::ExpectTx:
    case MbarOp::CompleteTx: {
      int64_t tx = int64_t(x.read(I.ops[1], w, l) & 0xffffffff);
      mb.tx += op == MbarOp::ExpectTx ? tx : -tx;
      if (op == MbarOp::CompleteTx) {
        mb.cur.join(w.vc);
        released = true;
      }
      ++x.epoch;
      x.tryCompletePhase(off, mb);
      return;
    }
    case MbarOp::TestWait:
    case MbarOp::TryWait: {
      ++x.prof.mbarrierWaits;
      uint64_t v = x.read(I.ops[2], w, l);
      bool done = (I.flags & FlagParity) ? (mb.phase & 1) != (v & 1)
                                         : uint32_t(v) != mb.phase;
      if (done) {
        w.vc.join(mb.done);
        anyDone = true;
      } else {
        anyFailed = true;
        failedAddr = off;
      }
      x.write(I.ops[0], w, l, done);
      return;
    }
    case MbarOp::Inval:
      x.mbars.erase(it);
      for (uint32_t g = off / 4; g < off / 4 + 2 && g < x.shadow.size; ++g)
        x.shadow.gran[g].wFlags &= uint8_t(~GranMbarrier);
      return;
    case MbarOp::Init:
      return;
    }
  });
  if (released)
    ++w.vc.c[w.index];
  if (x.failed || (op != MbarOp::TestWait && op != MbarOp::TryWait))
    return;
  if (!anyFailed) {
    w.spinEpoch = ~0ull;
    return;
  }
  // try_wait may suspend the thread: park the warp at the instruction until
  // the phase changes, when every issuing lane failed and no other lane of
  // the warp could make progress meanwhile.
  if (op == MbarOp::TryWait && !anyDone &&
      exec == (w.live & ~w.exited & ~w.waiting)) {
    forLanes(exec, [&](unsigned l) { w.pc[l] = idx; });
    w.park = Park::Mbarrier;
    w.parkAddr = failedAddr;
    w.parkInstr = idx;
    return;
  }
  if (w.spinEpoch != x.epoch) {
    w.spinEpoch = x.epoch;
    w.spins = 0;
  }
  ++w.spins;
  w.parkAddr = failedAddr;
  w.parkInstr = idx;
}

static void elect(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  unsigned lane0 = unsigned(__builtin_ctz(exec));
  uint32_t members =
      uint32_t(x.read(I.ops[1], w, lane0)) & w.live & ~w.exited;
  if (members & ~exec) {
    x.fault(w, lane0, "elect.sync: member lanes " + hexAddr(members & ~exec) +
                          " of the membermask do not execute it");
    return;
  }
  if (!members) {
    x.fault(w, lane0, "elect.sync with an empty membermask");
    return;
  }
  unsigned leader = unsigned(__builtin_ctz(members));
  forLanes(exec, [&](unsigned l) {
    x.write(I.ops[0], w, l, leader);
    if (I.ops[0].pred2)
      x.writeReg(I.ops[0].pred2 - 1, w, l, l == leader);
  });
}

/// setmaxnreg: the CTA's 64K registers are a pool; .dec returns the
/// difference to it, .inc takes it and waits (as the hardware does) while
/// the pool is short, so an .inc that no .dec can satisfy deadlocks.
static void setmaxnreg(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  int64_t n = I.ops[0].imm;
  unsigned lane0 = unsigned(__builtin_ctz(exec));
  if (exec != (w.live & ~w.exited)) {
    x.fault(w, lane0, "setmaxnreg.sync.aligned executed by a diverged warp");
    return;
  }
  if (n < 24 || n > 256 || n % 8) {
    x.fault(w, lane0, "setmaxnreg register count " + std::to_string(n) +
                          " must be a multiple of 8 in [24, 256]");
    return;
  }
  const bool inc = I.flags & FlagInc;
  if (inc ? n < int64_t(w.nreg) : n > int64_t(w.nreg)) {
    x.fault(w, lane0, std::string("setmaxnreg.") + (inc ? "inc" : "dec") +
                          " to " + std::to_string(n) +
                          " registers, but the warp holds " +
                          std::to_string(w.nreg) + " per thread");
    return;
  }
  int64_t delta = (n - int64_t(w.nreg)) * kWarpSize;
  if (delta > x.regPool) {
    // Wait here until other warps release enough registers.
    forLanes(exec, [&](unsigned l) { w.pc[l] = x.instrIndex(I); });
    w.park = Park::Setmaxnreg;
    w.parkInstr = x.instrIndex(I);
    return;
  }
  x.regPool -= delta;
  w.nreg = unsigned(n);
  w.parkInstr = x.instrIndex(I); // names the setmaxnreg in later messages
  if (delta < 0) {
    ++x.epoch;
    for (Warp &o : *x.warps)
      if (o.park == Park::Setmaxnreg)
        o.park = Park::None;
  }
}

void ringrt::emu::execSync(const Instr &I, Warp &w, uint32_t exec, Exec &x) {
  switch (I.op) {
  case Opcode::Bar:
    return bar(I, w, exec, x);
  case Opcode::Mbarrier:
    return mbarrier(I, w, exec, x);
  case Opcode::FenceProxyAsync:
    forLanes(exec, [&](unsigned l) {
      ++w.initFence[l];
      if (!(I.flags & FlagMbarrierInit))
        ++w.proxyFence[l];
    });
    return;
  case Opcode::Elect:
    return elect(I, w, exec, x);
  case Opcode::Setmaxnreg:
    return setmaxnreg(I, w, exec, x);
  default:
    x.fault(w, unsigned(__builtin_ctz(exec)), "internal: not a sync op");
  }
}
