//===- Shadow.h - Happens-before clocks and shared-memory shadow ---*- C++ -*-===//
//
// This file declares the state of the race checker: a vector clock per warp
// (FastTrack-style epochs: a warp's own component advances after each
// release) and a shadow word per 4-byte granule of shared memory holding the
// last write (warp, lane, clock, instruction, bytes, proxy) and the set of
// warps that read it since, with each reader's clock in a per-warp table.
// The granule is 4 bytes because the emulated kernels access shared memory
// in 4- and 16-byte units; the write records its byte mask so that two
// warps writing different halves of a word are not reported.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_SHADOW_H
#define RINGRT_EMU_LIB_SHADOW_H

#include <cstdint>
#include <cstring>
#include <vector>

namespace ringrt::emu {

constexpr unsigned kMaxWarps = 32;

/// A vector clock over the warps of a CTA.
struct VClock {
  uint32_t c[kMaxWarps] = {};
  void join(const VClock &o) {
    for (unsigned i = 0; i < kMaxWarps; ++i)
      c[i] = c[i] > o.c[i] ? c[i] : o.c[i];
  }
  void clear() { std::memset(c, 0, sizeof(c)); }
};

/// Flags of Granule::wFlags.
enum : uint8_t {
  GranWritten = 1, ///< has a recorded write
  GranAsync = 2,   ///< the write came from the async proxy (TMA)
  GranMbarrier = 4, ///< part of an initialized mbarrier object
};

/// Shadow of one 4-byte granule of shared memory.
struct Granule {
  uint32_t wClock = 0;  ///< writer's epoch
  uint32_t wInstr = 0;  ///< writing instruction
  uint32_t wFence = 0;  ///< writer lane's fence.proxy.async count then
  uint32_t readers = 0; ///< warps that read since the write
  uint16_t inflight = 0; ///< in-flight wgmma reading it
  uint8_t wWarp = 0, wLane = 0, wMask = 0, wFlags = 0;
  /// Bytes that anything in this CTA ever wrote (a later write by another
  /// warp replaces wMask but not this): reads of other bytes are reads of
  /// uninitialized shared memory.
  uint8_t init = 0;
  /// cp.async copies into this granule that were issued and have not landed
  /// (their wait_group has not completed them).
  uint8_t cpPending = 0;
};

/// A read of a granule by one warp.
struct ReadRecord {
  uint32_t clock = 0;
  uint32_t instr = 0;
  uint8_t lane = 0;
};

/// Shadow memory of the CTA's shared window.
struct Shadow {
  std::vector<Granule> gran;
  std::vector<ReadRecord> reads; ///< warp-major: reads[w * size + g]
  size_t size = 0;
  void reset(size_t sharedBytes, unsigned numWarps) {
    size = (sharedBytes + 3) / 4;
    gran.assign(size, Granule());
    if (reads.size() < size * numWarps)
      reads.resize(size * numWarps);
  }
  ReadRecord &read(unsigned warp, size_t g) { return reads[warp * size + g]; }
};

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_SHADOW_H
