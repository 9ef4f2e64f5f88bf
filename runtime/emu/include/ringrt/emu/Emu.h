//===- Emu.h - PTX emulator public API -----------------------------*- C++ -*-===//
//
// This file declares the public interface of the `emu` device backend: a CPU
// emulator for the PTX that ringc emits. A Module is parsed once from PTX
// text into decoded instructions; launch() runs a grid on the CPU with warps
// of 32 lanes executing in lockstep, per-CTA shared memory, and
// compute-sanitizer style memory checking against a Memory registry.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_EMU_H
#define RINGRT_EMU_EMU_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringrt::emu {

/// Grid or block extent, as in CUDA.
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

/// Registry of device allocations. Device memory is host memory: a global
/// address is a host pointer, and it is valid only inside a registered
/// [base, base + size) range.
class Memory {
public:
  Memory() = default;
  Memory(const Memory &) = delete;
  Memory &operator=(const Memory &) = delete;
  ~Memory();

  /// Allocates `bytes` of host memory (256-byte aligned) and registers it.
  void *alloc(size_t bytes);
  /// Frees and unregisters memory returned by alloc(). Returns false if `ptr`
  /// was not returned by alloc().
  bool free(void *ptr);
  /// Registers caller-owned memory [ptr, ptr + bytes) as device memory.
  void registerRange(const void *ptr, size_t bytes);
  /// Unregisters a range registered with registerRange() or alloc().
  bool unregisterRange(const void *ptr);
  /// Returns true if [addr, addr + bytes) lies inside one registered range.
  bool contains(uint64_t addr, uint64_t bytes) const;

private:
  std::map<uint64_t, uint64_t> ranges; ///< base -> size
  std::map<uint64_t, void *> owned;    ///< base -> allocation to release
};

/// Layout of one kernel parameter (`.param` in the entry signature).
struct ParamInfo {
  std::string name;
  unsigned size = 0;  ///< bytes
  unsigned align = 1; ///< bytes
};

struct Kernel;

/// A parsed PTX module: every `.entry` decoded into an instruction array.
class Module {
public:
  ~Module();
  /// Parses PTX text. On failure returns null and sets `error` to a message
  /// naming the line and the offending token or instruction.
  static std::unique_ptr<Module> parse(std::string_view ptxText,
                                       std::string &error);
  bool hasKernel(std::string_view name) const;
  /// Returns the parameters of `name`, or null when there is no such kernel.
  const std::vector<ParamInfo> *kernelParams(std::string_view name) const;
  /// Returns the static .shared bytes used by `name` (0 if unknown).
  unsigned staticSharedBytes(std::string_view name) const;
  /// Names of all kernels, in PTX order.
  std::vector<std::string> kernelNames() const;

  /// Internal: the decoded kernel, or null.
  const Kernel *findKernel(std::string_view name) const;

private:
  friend class Parser;
  Module();
  std::vector<std::unique_ptr<Kernel>> kernels;
};

/// Dynamic counters of one launch (warp-level instruction counts; bytes are
/// summed over lanes).
struct Profile {
  uint64_t instructions = 0;   ///< warp instructions issued
  uint64_t laneInstructions = 0; ///< lanes that executed them
  uint64_t mma = 0;            ///< warp-wide mma.sync
  uint64_t ldmatrix = 0;       ///< warp-wide ldmatrix
  uint64_t cpAsyncBytes = 0;   ///< bytes copied by cp.async
  uint64_t sharedBytes = 0;    ///< bytes read or written in .shared
  uint64_t globalBytes = 0;    ///< bytes read or written in global memory
  uint64_t barriers = 0;       ///< CTA barrier releases
};

/// Runs `kernel` of `module` over `grid` x `block` like cuLaunchKernel:
/// params[i] points at the value of the i-th .param. Returns false and sets
/// `error` on the first fault (naming the kernel, CTA, thread and address);
/// a faulting access is never performed.
bool launch(const Module &module, std::string_view kernel, Dim3 grid,
            Dim3 block, unsigned dynamicSharedBytes, void **params,
            Memory &mem, std::string &error, Profile *profile = nullptr);

} // namespace ringrt::emu

#endif // RINGRT_EMU_EMU_H
