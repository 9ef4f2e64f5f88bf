//===- Exec.h - Emulator execution state ----------------------------*- C++ -*-===//
//
// This file declares the state of a running launch (Exec), of a warp (Warp),
// of the CTA's barriers and mbarriers, and the handlers of each opcode
// group. The 32 lanes of a warp execute one instruction at a time over an
// active mask; the scheduler (Scheduler.cpp) interleaves the warps of a CTA.
// Every handler executes one instruction for the lanes of `mask`.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_EXEC_H
#define RINGRT_EMU_LIB_EXEC_H

#include "Instr.h"
#include "Shadow.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace ringrt::emu {

constexpr unsigned kWarpSize = 32;

/// A cp.async issued but not yet completed by a wait.
struct PendingCopy {
  uint64_t dst; ///< shared-window address
  uint32_t group;
  uint32_t instr; ///< index of the cp.async
  uint8_t bytes;
  uint8_t data[16];
};

/// Why a warp cannot issue (besides lanes waiting in bar.sync).
enum class Park : uint8_t {
  None,
  Mbarrier, ///< mbarrier.try_wait that found its phase incomplete
  Wgmma,    ///< waiting for the other warps of its warpgroup at wgmma
  Setmaxnreg, ///< setmaxnreg.inc waiting for registers to be released
};

/// Register ownership by an in-flight wgmma (Warp::regState).
enum : uint8_t {
  RegFree = 0,
  RegWgmmaA = 1,   ///< A fragment being read: must not be written
  RegWgmmaAcc = 2, ///< accumulator: only a chained wgmma may touch it
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
  std::vector<uint32_t> valid; ///< per register: lanes holding a value
  std::vector<uint8_t> regState; ///< per register: RegFree/RegWgmma*
  std::vector<uint32_t> regGroup; ///< wgmma group owning the register
  std::vector<uint32_t> regInstr; ///< wgmma instruction owning it
  std::vector<uint64_t> lastWrite; ///< per register: tick of the last write
  std::vector<uint64_t> pendingVal; ///< in-flight wgmma results (lazily)
  std::vector<PendingCopy> pending[kWarpSize];
  uint32_t openGroup[kWarpSize] = {};

  // Scheduling.
  Park park = Park::None;
  uint32_t parkAddr = 0;  ///< mbarrier (shared offset) of Park::Mbarrier
  uint32_t parkInstr = 0; ///< instruction the warp is parked at
  uint64_t spinEpoch = ~0ull; ///< Exec::epoch of the last failed test_wait
  uint64_t spins = 0;     ///< failed waits since spinEpoch changed
  uint64_t tick = 0;      ///< instructions issued by this warp

  // Checking.
  VClock vc;                         ///< happens-before clock
  uint32_t proxyFence[kWarpSize] = {}; ///< fence.proxy.async count per lane
  uint32_t initFence[kWarpSize] = {}; ///< the same plus fence.mbarrier_init
  uint64_t wgmmaFenceTick = 0;       ///< tick of the last wgmma.fence
  bool wgmmaFenced = false;          ///< a wgmma.fence was executed
  uint32_t wgmmaGroup = 1;           ///< id of the open wgmma group
  unsigned nreg = 0; ///< registers per thread (setmaxnreg accounting)

  uint64_t &reg(uint32_t r, unsigned lane) { return regs[r * kWarpSize + lane]; }
};

/// A bar.sync/barrier named barrier.
struct NamedBarrier {
  uint32_t arrived = 0;  ///< threads arrived in the current round
  uint32_t expected = 0; ///< thread count of the round (0: all threads)
  uint32_t instr = 0;    ///< first instruction that arrived
  VClock vc;             ///< join of the arrivals' clocks
};

/// An mbarrier object (keyed by its shared-memory offset).
struct MBarrier {
  uint32_t expected = 0; ///< arrivals per phase
  int64_t pending = 0;   ///< arrivals still missing in the current phase
  int64_t tx = 0;        ///< tx-count of the current phase
  uint32_t phase = 0;    ///< current phase number
  uint32_t initInstr = 0;
  uint8_t initWarp = 0, initLane = 0;
  uint32_t initFence = 0; ///< the initializing lane's initFence then
  VClock cur;            ///< join of the releases of the current phase
  VClock done;           ///< join of the releases of all completed phases
};

/// A wgmma.mma_async in flight: the shared memory it reads stays reserved
/// until a wgmma.wait_group of one of its warps retires it.
struct WgmmaOp {
  unsigned warpgroup = 0;
  uint32_t instr = 0;
  uint32_t group[4] = {}; ///< the wgmma group of each warp
  bool retired = false;
  std::vector<uint32_t> granules; ///< shared granules it reads
};

/// State of one launch.
class Exec {
public:
  Exec(const Kernel &k, Memory &mem) : k(k), mem(mem) {}

  /// Raw bits of a non-address operand for `lane`.
  uint64_t read(const Operand &o, Warp &w, unsigned lane) {
    if (o.kind == Operand::Reg) {
      if (__builtin_expect(!((w.valid[o.index] >> lane) & 1), 0))
        badRead(o.index, w, lane);
      uint64_t v = w.reg(o.index, lane);
      return o.negated ? !v : v;
    }
    return readOther(o, w, lane);
  }
  /// Address `base + offset` of an address operand.
  uint64_t address(const Operand &o, Warp &w, unsigned lane) {
    return read(o, w, lane) + uint64_t(o.imm);
  }
  /// Writes `v` (already sized to the operation type) to a register or sink
  /// (the `|%p` part of a destination is written by the handler).
  void write(const Operand &o, Warp &w, unsigned lane, uint64_t v) {
    if (o.kind == Operand::Reg)
      writeReg(o.index, w, lane, v);
  }
  /// Writes register `r` of `lane`: an error while an in-flight wgmma owns
  /// it; otherwise it becomes initialized for that lane.
  void writeReg(uint32_t r, Warp &w, unsigned lane, uint64_t v) {
    if (__builtin_expect(w.regState[r] != RegFree, 0)) {
      badWrite(r, w, lane);
      return;
    }
    w.reg(r, lane) = v;
    w.valid[r] |= 1u << lane;
    w.lastWrite[r] = w.tick;
  }
  /// The i-th element of a vector operand (or the operand itself).
  const Operand &elem(const Operand &o, unsigned i) const {
    return o.kind == Operand::Vector ? k.vecPool[o.index + i] : o;
  }

  /// How a shared-memory access is checked for races.
  enum class Use : uint8_t { None, Read, Write };
  /// Checks an access of `bytes` at `addr` in `space` and returns the host
  /// pointer, or null after recording a fault. Generic addresses resolve to
  /// the CTA's shared window, the kernel parameters or registered global
  /// memory. Shared accesses with `use` Read/Write are race checked; global
  /// ones with Read must read initialized bytes, and Write initializes them.
  uint8_t *access(Space space, uint64_t addr, unsigned bytes, unsigned align,
                  const Instr &I, Warp &w, unsigned lane, Use use = Use::None);
  /// Checks that the `bytes` shadow bytes at `init` (of global memory at
  /// `addr`) are initialized; otherwise records a fault naming the
  /// allocation, the offset and the first uninitialized byte.
  bool checkGlobalInit(const uint8_t *init, uint64_t addr, uint64_t bytes,
                       const Instr &I, Warp &w, unsigned lane);
  /// Resolves a shared (or generic pointing into shared) address to its
  /// offset in the CTA window; false after a fault.
  bool sharedOffset(Space space, uint64_t addr, unsigned bytes,
                    unsigned align, const Instr &I, Warp &w, unsigned lane,
                    uint32_t &off);
  /// Records the first fault: kernel, CTA, thread, instruction and `what`.
  void fault(const Instr &I, Warp &w, unsigned lane, const std::string &what);
  /// The message fault() records: kernel, CTA, thread, instruction, `what`.
  std::string faultMessage(const Instr &I, Warp &w, unsigned lane,
                           const std::string &what) const;
  /// Records an error that is reported when the CTA ends without an earlier
  /// fault (the first one wins). A read of uninitialized shared memory is
  /// deferred so that a racing write that comes later in the emulated order
  /// is reported as the race it is.
  void deferFault(Warp &w, unsigned lane, const std::string &what) {
    if (deferredError.empty())
      deferredError = faultMessage(*cur, w, lane, what);
  }
  /// Fault at the current instruction.
  void fault(Warp &w, unsigned lane, const std::string &what) {
    fault(*cur, w, lane, what);
  }

  /// "thread (x,y,z)" of lane `lane` of warp `warp`.
  std::string threadName(unsigned warp, unsigned lane) const;
  /// "PTX line N 'mnemonic'" of instruction `idx`.
  std::string lineName(uint32_t idx) const;
  uint32_t instrIndex(const Instr &I) const {
    return uint32_t(&I - k.code.data());
  }
  /// Name of register `r` (for messages).
  const std::string &regName(uint32_t r) const { return k.regNames[r]; }

  // Shared-memory checking (Shadow.cpp).
  /// Race and ownership check of a generic-proxy access by `lane` of `w`.
  void checkShared(Warp &w, unsigned lane, uint32_t off, unsigned bytes,
                   bool isWrite, uint32_t instr);
  /// Async-proxy read (wgmma operand, TMA store source) of `bytes` at `off`
  /// on behalf of `w` whose ordering is `vc`: checks the race with the
  /// last write and that a generic write was fenced by fence.proxy.async.
  void checkAsyncRead(Warp &w, unsigned lane, const VClock &vc, uint32_t off,
                      unsigned bytes, uint32_t instr, const char *what);
  /// Counts a cp.async into [off, off + bytes) as issued (+1) or landed
  /// (−1): reads of it in between read bytes that are not there yet.
  void shadowCopyPending(uint32_t off, unsigned bytes, int delta);
  /// Async-proxy write (TMA load) by `lane` of `w`.
  void checkAsyncWrite(Warp &w, unsigned lane, uint32_t off, unsigned bytes,
                       uint32_t instr);

  // Synchronization helpers (ExecSync.cpp).
  /// Completes the named barrier `id` when enough threads have arrived.
  void tryCompleteBarrier(unsigned id);
  /// Completes the current phase of `mb` when arrivals and tx are done.
  void tryCompletePhase(uint32_t addr, MBarrier &mb);
  /// Retires the wgmma groups of `w` up to `limit`.
  void retireWgmma(Warp &w, uint32_t limit);

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
  std::string deferredError; ///< see deferFault (per CTA)

  // Per-CTA state.
  const Instr *cur = nullptr;  ///< instruction being executed
  std::vector<Warp> *warps = nullptr;
  NamedBarrier bars[16];
  std::unordered_map<uint32_t, MBarrier> mbars;
  std::vector<WgmmaOp> wgmmaOps;
  /// Warps of each warpgroup arrived at a wgmma (bit per warp) and where.
  uint32_t wgArrived[8] = {};
  uint32_t wgInstr[8] = {};
  Shadow shadow;
  uint64_t epoch = 0; ///< bumped by every synchronization event
  int64_t regPool = 0; ///< registers released by setmaxnreg.dec, not taken
  bool mbarrierOp = false; ///< an mbarrier instruction may touch its object

private:
  uint64_t readOther(const Operand &o, Warp &w, unsigned lane);
  void badRead(uint32_t r, Warp &w, unsigned lane);
  void badWrite(uint32_t r, Warp &w, unsigned lane);
};

/// Handlers, one per opcode group.
void execArith(const Instr &I, Warp &w, uint32_t mask, Exec &x);
void execConvert(const Instr &I, Warp &w, uint32_t mask, Exec &x);
void execMemory(const Instr &I, Warp &w, uint32_t mask, Exec &x);
void execWarp(const Instr &I, Warp &w, uint32_t mask, Exec &x);
/// bar/barrier, mbarrier.*, fence.proxy.async, elect.sync, setmaxnreg.
void execSync(const Instr &I, Warp &w, uint32_t mask, Exec &x);
/// wgmma.fence/commit_group/wait_group/mma_async.
void execWgmma(const Instr &I, Warp &w, uint32_t mask, Exec &x);
/// cp.async.bulk.tensor and cp.async.bulk commit/wait.
void execTma(const Instr &I, Warp &w, uint32_t mask, Exec &x);
/// Completes the cp.async copies of `lane` with group < `limit`.
void completeCopies(Warp &w, unsigned lane, uint32_t limit, Exec &x);

/// "0x..." of an address, for messages.
std::string hexAddr(uint64_t v);

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
