//===- Executor.cpp - Launch, operands and memory access ----------*- C++ -*-===//
//
// This file implements launch() (parameter marshalling, launch limits, the
// per-target shared-memory limit, CTA-by-CTA execution through the
// scheduler) and Exec's operand reads, register checks, checked memory
// access and fault messages.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"
#include "Scheduler.h"

#include <cstdlib>

#include <cstdio>
#include <cstring>

using namespace ringrt::emu;

std::string ringrt::emu::hexAddr(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
  return buf;
}

void Exec::fault(const Instr &I, Warp &w, unsigned lane,
                 const std::string &what) {
  if (failed)
    return;
  failed = true;
  error = faultMessage(I, w, lane, what);
}

std::string Exec::faultMessage(const Instr &I, Warp &w, unsigned lane,
                               const std::string &what) const {
  size_t idx = size_t(&I - k.code.data());
  return "kernel '" + k.name + "', CTA (" + std::to_string(ctaid.x) + "," +
         std::to_string(ctaid.y) + "," + std::to_string(ctaid.z) +
         "), thread (" + std::to_string(w.tid[lane][0]) + "," +
         std::to_string(w.tid[lane][1]) + "," +
         std::to_string(w.tid[lane][2]) + "), PTX line " +
         std::to_string(I.line) + " '" + k.text[idx] + "': " + what;
}

std::string Exec::threadName(unsigned warp, unsigned lane) const {
  unsigned t = warp * kWarpSize + lane;
  return "thread (" + std::to_string(t % block.x) + "," +
         std::to_string((t / block.x) % block.y) + "," +
         std::to_string(t / (block.x * block.y)) + ")";
}

std::string Exec::lineName(uint32_t idx) const {
  if (idx >= k.code.size())
    return "the end of the kernel";
  return "PTX line " + std::to_string(k.code[idx].line) + " '" + k.text[idx] +
         "'";
}

void Exec::badRead(uint32_t r, Warp &w, unsigned lane) {
  if (w.regState[r] == RegWgmmaAcc) {
    fault(w, lane, "reads register " + regName(r) +
                       ", an accumulator of the in-flight " +
                       lineName(w.regInstr[r]) +
                       " that no wgmma.wait_group has retired");
    return;
  }
  fault(w, lane, "reads register " + regName(r) + " before any write to it");
}

void Exec::badWrite(uint32_t r, Warp &w, unsigned lane) {
  fault(w, lane,
        "writes register " + regName(r) + ", " +
            (w.regState[r] == RegWgmmaAcc ? "an accumulator" : "an A fragment") +
            " of the in-flight " + lineName(w.regInstr[r]) +
            " that no wgmma.wait_group has retired");
}

bool Exec::sharedOffset(Space space, uint64_t addr, unsigned bytes,
                        unsigned align, const Instr &I, Warp &w,
                        unsigned lane, uint32_t &off) {
  if (space == Space::Generic) {
    uint64_t base = reinterpret_cast<uint64_t>(shared.data());
    if (addr < base || addr - base >= shared.size()) {
      fault(I, w, lane, "generic address " + hexAddr(addr) +
                            " is not in the CTA's shared memory window");
      return false;
    }
    addr -= base;
  } else if (space != Space::Shared) {
    fault(I, w, lane, std::string("expected a shared-memory address, not ") +
                          spaceName(space));
    return false;
  }
  if (align > 1 && addr % align) {
    fault(I, w, lane, "misaligned shared address " + hexAddr(addr) + " (needs " +
                          std::to_string(align) + "-byte alignment)");
    return false;
  }
  if (addr >= shared.size() || bytes > shared.size() - addr) {
    fault(I, w, lane, "out-of-bounds shared access of " +
                          std::to_string(bytes) + " bytes at address " +
                          hexAddr(addr) + " (shared size " +
                          std::to_string(shared.size()) + ")");
    return false;
  }
  off = uint32_t(addr);
  return true;
}

uint8_t *Exec::access(Space space, uint64_t addr, unsigned bytes,
                      unsigned align, const Instr &I, Warp &w, unsigned lane,
                      Use use) {
  auto desc = [&](const char *kind, Space s) {
    return std::string(kind) + " " + spaceName(s) + " access of " +
           std::to_string(bytes) + " bytes at address " + hexAddr(addr);
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
    if (use != Use::None)
      checkShared(w, lane, uint32_t(addr), bytes, use == Use::Write,
                  instrIndex(I));
    return failed ? nullptr : shared.data() + addr;
  case Space::Param:
    if (addr >= params.size() || bytes > params.size() - addr) {
      fault(I, w, lane, desc("out-of-bounds", space));
      return nullptr;
    }
    return params.data() + addr;
  case Space::Generic: {
    if (addr >= sharedBase && addr - sharedBase < shared.size())
      return access(Space::Shared, addr - sharedBase, bytes, 1, I, w, lane,
                    use);
    // The generic address of a kernel parameter (cvta.param).
    uint64_t paramBase = reinterpret_cast<uint64_t>(params.data());
    if (addr >= paramBase && addr - paramBase < params.size()) {
      if (use == Use::Write) {
        fault(I, w, lane, "write to a kernel parameter at generic address " +
                              hexAddr(addr));
        return nullptr;
      }
      return access(Space::Param, addr - paramBase, bytes, 1, I, w, lane);
    }
    [[fallthrough]];
  }
  case Space::Global: {
    Memory::Where where;
    if (!mem.locate(addr, bytes, where)) {
      fault(I, w, lane, desc("out-of-bounds", space) +
                            " (not inside any device allocation)");
      return nullptr;
    }
    prof.globalBytes += bytes;
    if (where.init) {
      if (use == Use::Write)
        std::memset(where.init, 1, bytes);
      else if (use == Use::Read &&
               !checkGlobalInit(where.init, addr, bytes, I, w, lane))
        return nullptr;
    }
    return reinterpret_cast<uint8_t *>(addr);
  }
  default:
    fault(I, w, lane, std::string("unsupported state space ") +
                          spaceName(space));
    return nullptr;
  }
}

bool Exec::checkGlobalInit(const uint8_t *init, uint64_t addr, uint64_t bytes,
                           const Instr &I, Warp &w, unsigned lane) {
  const void *hole = std::memchr(init, 0, bytes);
  if (__builtin_expect(!hole, 1))
    return true;
  uint64_t first = uint64_t(static_cast<const uint8_t *>(hole) - init);
  uint64_t n = 0;
  for (uint64_t i = first; i < bytes; ++i)
    n += !init[i];
  fault(I, w, lane,
        "reads uninitialized global memory: " + std::to_string(n) + " of " +
            std::to_string(bytes) + " bytes at address " + hexAddr(addr) +
            (first ? " (the first at " + hexAddr(addr + first) + ")"
                   : std::string()) +
            ", " + mem.describe(addr + first) +
            ", were never written by a kernel store, a host copy or a "
            "transfer");
  return false;
}

uint64_t Exec::readOther(const Operand &o, Warp &w, unsigned lane) {
  switch (o.kind) {
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
    case SpecialReg::ClusterCtaRank: return 0;
    case SpecialReg::ClusterNCtaRank: return 1;
    }
    return 0;
  }
  default:
    return 0;
  }
}

/// Largest static + dynamic shared memory a block may opt into on `sm`
/// (CUDA C++ Programming Guide, compute capability table).
static unsigned sharedOptInLimit(unsigned sm) {
  switch (sm) {
  case 70: case 72: return 98304;       // 96 KB
  case 75: return 65536;                 // 64 KB
  case 80: case 87: return 166912;      // 163 KB
  case 86: case 89: return 101376;      // 99 KB
  default: return sm >= 90 ? 232448 : 49152; // 227 KB
  }
}

static uint64_t seedFromEnv() {
  if (const char *s = std::getenv("RINGRT_EMU_SEED"))
    if (*s)
      return std::strtoull(s, nullptr, 0);
  return 1;
}

bool ringrt::emu::launch(const Module &module, std::string_view kernel,
                         Dim3 grid, Dim3 block, unsigned dynamicSharedBytes,
                         void **params, Memory &mem, std::string &error,
                         Profile *profile) {
  LaunchOptions opts;
  opts.maxDynamicSharedBytes = dynamicSharedBytes;
  return launch(module, kernel, grid, block, dynamicSharedBytes, params, mem,
                error, profile, opts);
}

bool ringrt::emu::launch(const Module &module, std::string_view kernel,
                         Dim3 grid, Dim3 block, unsigned dynamicSharedBytes,
                         void **params, Memory &mem, std::string &error,
                         Profile *profile, const LaunchOptions &opts) {
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
  // Shared-memory limits: 48 KiB of static shared memory, 48 KiB in total
  // without an opt-in, and the target's opt-in maximum with one.
  const unsigned sm = module.smVersion();
  const std::string target =
      module.targetName().empty() ? "the default target (sm_90)"
                                  : module.targetName();
  const unsigned limit = sharedOptInLimit(sm ? sm : 90);
  if (k->staticShared > 49152) {
    error = "kernel '" + k->name + "': " + std::to_string(k->staticShared) +
            " bytes of static shared memory exceed the 49152-byte limit "
            "(use dynamic shared memory above 48 KiB)";
    return false;
  }
  if (opts.maxDynamicSharedBytes + size_t(k->staticShared) > limit) {
    error = "kernel '" + k->name + "': the opt-in of " +
            std::to_string(opts.maxDynamicSharedBytes) +
            " bytes of dynamic shared memory (plus " +
            std::to_string(k->staticShared) + " static) exceeds the " +
            std::to_string(limit) + "-byte limit of " + target;
    return false;
  }
  if (sharedBytes > limit) {
    error = "kernel '" + k->name + "': " + std::to_string(sharedBytes) +
            " bytes of shared memory exceed the " + std::to_string(limit) +
            "-byte limit of " + target;
    return false;
  }
  if (sharedBytes > 49152 && dynamicSharedBytes > opts.maxDynamicSharedBytes) {
    error = "kernel '" + k->name + "': " + std::to_string(sharedBytes) +
            " bytes of shared memory exceed 49152 bytes, but the kernel opted "
            "into only " + std::to_string(opts.maxDynamicSharedBytes) +
            " bytes of dynamic shared memory (set "
            "MAX_DYNAMIC_SHARED_SIZE_BYTES to at least " +
            std::to_string(dynamicSharedBytes) + ")";
    return false;
  }
  SchedulerConfig cfg;
  cfg.seed = opts.seed ? opts.seed : seedFromEnv();
  cfg.maxInstructions = opts.maxInstructions ? opts.maxInstructions
                                             : (uint64_t(1) << 31);
  for (unsigned cz = 0; cz < grid.z; ++cz)
    for (unsigned cy = 0; cy < grid.y; ++cy)
      for (unsigned cx = 0; cx < grid.x; ++cx) {
        x.ctaid = Dim3{cx, cy, cz};
        // Poison shared memory so reads of unwritten data are visible.
        x.shared.assign(sharedBytes, 0xcd);
        if (!runCta(x, cfg)) {
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
