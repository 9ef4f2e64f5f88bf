//===- Shadow.cpp - Shared-memory race and proxy checking ---------*- C++ -*-===//
//
// This file implements the shared-memory checks of Exec: data races between
// warps (two accesses to overlapping bytes, at least one a write, with no
// happens-before edge between them), writes to bytes that an in-flight
// wgmma reads, and async-proxy reads (wgmma descriptors, TMA stores) of a
// generic-proxy write that its thread did not follow with fence.proxy.async,
// and reads (generic or async) of shared bytes that nothing in the CTA wrote.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"

#include <cstdio>

using namespace ringrt::emu;

/// Bytes of granule `g` covered by [off, off + bytes), as a 4-bit mask.
static uint8_t granuleMask(size_t g, uint32_t off, unsigned bytes) {
  uint64_t lo = std::max<uint64_t>(off, g * 4) - g * 4;
  uint64_t hi = std::min<uint64_t>(uint64_t(off) + bytes, g * 4 + 4) - g * 4;
  return uint8_t(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/// The in-flight wgmma that reads granule `g` (for messages).
static const WgmmaOp *inflightReader(const Exec &x, size_t g) {
  for (const WgmmaOp &op : x.wgmmaOps)
    if (!op.retired)
      for (uint32_t q : op.granules)
        if (q == g)
          return &op;
  return nullptr;
}

namespace {
/// One checked access; shared by the generic and async paths.
struct Access {
  Exec &x;
  Warp &w;
  unsigned lane;
  uint32_t instr;
  const char *kind; ///< "read", "write", "TMA write", ...

  bool raceWithWrite(const Granule &s, uint8_t mask, const VClock &vc,
                     uint32_t addr) {
    if (!(s.wFlags & GranWritten) || !(s.wMask & mask) ||
        vc.c[s.wWarp] >= s.wClock || s.wWarp == w.index)
      return false;
    x.fault(w, lane,
            "data race on shared memory address " + hexAddr(addr) +
                ": this " + kind + " conflicts with the " +
                (s.wFlags & GranAsync ? "TMA write" : "write") + " by " +
                x.threadName(s.wWarp, s.wLane) + " at " +
                x.lineName(s.wInstr) +
                "; no barrier, mbarrier wait or wgmma.wait_group orders "
                "them");
    return true;
  }
  bool raceWithReads(const Granule &s, size_t g, uint32_t addr) {
    uint32_t others = s.readers & ~(1u << w.index);
    while (others) {
      unsigned q = unsigned(__builtin_ctz(others));
      others &= others - 1;
      const ReadRecord &r = x.shadow.read(q, g);
      if (w.vc.c[q] < r.clock) {
        x.fault(w, lane,
                "data race on shared memory address " + hexAddr(addr) +
                    ": this " + kind + " conflicts with the read by " +
                    x.threadName(q, r.lane) + " at " + x.lineName(r.instr) +
                    "; no barrier, mbarrier wait or wgmma.wait_group orders "
                    "them");
        return true;
      }
    }
    return false;
  }
  bool inflightWrite(const Granule &s, size_t g, uint32_t addr) {
    if (!s.inflight)
      return false;
    const WgmmaOp *op = inflightReader(x, g);
    x.fault(w, lane,
            std::string("this ") + kind + " of shared memory address " +
                hexAddr(addr) + " overwrites an operand of the in-flight " +
                (op ? x.lineName(op->instr) : std::string("wgmma")) +
                " (warpgroup " + std::to_string(op ? op->warpgroup : 0) +
                "); a wgmma.wait_group must retire it first");
    return true;
  }
  /// Stricter than a GPU, which would return stale data from an earlier CTA
  /// or kernel: a read of bytes that nothing in this CTA wrote is an error.
  /// The error is deferred to the end of the CTA (Exec::deferFault): if a
  /// write that races with this read follows, the race is what is wrong.
  void uninitializedRead(const Granule &s, uint8_t mask, uint32_t addr) {
    if ((s.init & mask) == mask)
      return;
    unsigned first = unsigned(__builtin_ctz(mask & ~s.init));
    x.deferFault(w, lane, std::string("this ") + kind +
                              " of shared memory address " +
                              hexAddr(addr - addr % 4 + first) +
                              " reads a byte that nothing in this CTA had "
                              "written (uninitialized shared memory)");
  }
  /// A read of bytes that an issued cp.async has not yet delivered: the
  /// GPU returns the old or the new bytes, whichever the copy's timing gives.
  bool copyNotLanded(const Granule &s, uint32_t addr) {
    if (!s.cpPending)
      return false;
    x.fault(w, lane, std::string("this ") + kind +
                         " of shared memory address " + hexAddr(addr) +
                         " reads bytes of a cp.async that has not landed; "
                         "a cp.async.wait_group or wait_all that completes "
                         "the copy (and a barrier, for other threads) must "
                         "come first");
    return true;
  }
  /// Only mbarrier instructions may access an mbarrier object.
  bool mbarrierObject(const Granule &s, uint32_t addr) {
    if (!(s.wFlags & GranMbarrier) || x.mbarrierOp)
      return false;
    x.fault(w, lane, std::string("this ") + kind + " of shared memory address " +
                         hexAddr(addr) +
                         " touches an initialized mbarrier object; only "
                         "mbarrier instructions may access it (mbarrier.inval "
                         "it first to reuse the memory)");
    return true;
  }
  void recordWrite(Granule &s, uint8_t mask, uint8_t flags) {
    flags |= s.wFlags & GranMbarrier;
    if ((s.wFlags & GranWritten) && s.wWarp == w.index &&
        s.wClock == w.vc.c[w.index])
      mask |= s.wMask;
    s.wClock = w.vc.c[w.index];
    s.wInstr = instr;
    s.wFence = w.proxyFence[lane];
    s.wWarp = uint8_t(w.index);
    s.wLane = uint8_t(lane);
    s.wMask = mask;
    s.wFlags = uint8_t(GranWritten | flags);
    s.init |= mask;
    s.readers = 0;
  }
  void recordRead(Granule &s, size_t g) {
    s.readers |= 1u << w.index;
    ReadRecord &r = x.shadow.read(w.index, g);
    r.clock = w.vc.c[w.index];
    r.instr = instr;
    r.lane = uint8_t(lane);
  }
};
} // namespace

void Exec::checkShared(Warp &w, unsigned lane, uint32_t off, unsigned bytes,
                       bool isWrite, uint32_t instr) {
  Access a{*this, w, lane, instr, isWrite ? "write" : "read"};
  size_t g0 = off / 4, g1 = (size_t(off) + bytes - 1) / 4;
  for (size_t g = g0; g <= g1 && g < shadow.size; ++g) {
    Granule &s = shadow.gran[g];
    uint8_t mask = granuleMask(g, off, bytes);
    uint32_t addr = uint32_t(std::max<size_t>(off, g * 4));
    if (a.mbarrierObject(s, addr) || a.raceWithWrite(s, mask, w.vc, addr))
      return;
    if (isWrite) {
      if (a.inflightWrite(s, g, addr) || a.raceWithReads(s, g, addr))
        return;
      a.recordWrite(s, mask, 0);
    } else {
      if (a.copyNotLanded(s, addr))
        return;
      a.uninitializedRead(s, mask, addr);
      a.recordRead(s, g);
    }
  }
}

void Exec::shadowCopyPending(uint32_t off, unsigned bytes, int delta) {
  size_t g0 = off / 4, g1 = (size_t(off) + bytes - 1) / 4;
  for (size_t g = g0; g <= g1 && g < shadow.size; ++g)
    shadow.gran[g].cpPending = uint8_t(shadow.gran[g].cpPending + delta);
}

void Exec::checkAsyncWrite(Warp &w, unsigned lane, uint32_t off,
                           unsigned bytes, uint32_t instr) {
  Access a{*this, w, lane, instr, "TMA write"};
  size_t g0 = off / 4, g1 = (size_t(off) + bytes - 1) / 4;
  for (size_t g = g0; g <= g1 && g < shadow.size; ++g) {
    Granule &s = shadow.gran[g];
    uint8_t mask = granuleMask(g, off, bytes);
    uint32_t addr = uint32_t(std::max<size_t>(off, g * 4));
    if (a.mbarrierObject(s, addr) || a.raceWithWrite(s, mask, w.vc, addr) ||
        a.inflightWrite(s, g, addr) || a.raceWithReads(s, g, addr))
      return;
    a.recordWrite(s, mask, GranAsync);
  }
}

void Exec::checkAsyncRead(Warp &w, unsigned lane, const VClock &vc,
                          uint32_t off, unsigned bytes, uint32_t instr,
                          const char *what) {
  (void)instr;
  size_t g0 = off / 4, g1 = (size_t(off) + bytes - 1) / 4;
  for (size_t g = g0; g <= g1 && g < shadow.size; ++g) {
    Granule &s = shadow.gran[g];
    uint8_t mask = granuleMask(g, off, bytes);
    uint32_t addr = uint32_t(std::max<size_t>(off, g * 4));
    if ((s.init & mask) != mask || s.cpPending) {
      // Stricter than a GPU, which would read stale data: the async proxy
      // only reads bytes something wrote in this CTA.
      fault(w, lane, std::string("the async proxy (") + what +
                         ") reads shared memory address " + hexAddr(addr) +
                         (s.cpPending ? ", where a cp.async has not landed"
                                      : ", which nothing in this CTA wrote"));
      return;
    }
    if (!(s.wFlags & GranAsync) &&
        (*warps)[s.wWarp].proxyFence[s.wLane] == s.wFence) {
      fault(w, lane,
            std::string("the async proxy (") + what +
                ") reads shared memory address " + hexAddr(addr) +
                " written through the generic proxy by " +
                threadName(s.wWarp, s.wLane) + " at " + lineName(s.wInstr) +
                ", which executed no fence.proxy.async after that write");
      return;
    }
    // The async read is ordered by `vc` (the issuing warps' clocks), also
    // for writes of the issuing warp itself.
    if (vc.c[s.wWarp] < s.wClock) {
      fault(w, lane,
            "data race on shared memory address " + hexAddr(addr) +
                ": this " + what + " conflicts with the " +
                (s.wFlags & GranAsync ? "TMA write" : "write") + " by " +
                threadName(s.wWarp, s.wLane) + " at " + lineName(s.wInstr) +
                "; no barrier, mbarrier wait or wgmma.wait_group orders "
                "them");
      return;
    }
  }
}
