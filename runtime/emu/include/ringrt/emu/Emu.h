//===- Emu.h - PTX emulator public API -----------------------------*- C++ -*-===//
//
// This file declares the public interface of the `emu` device backend: a CPU
// emulator for the PTX that ringc emits. A Module is parsed once from PTX
// text into decoded instructions; launch() runs a grid on the CPU. The 32
// lanes of a warp execute together; the warps of a CTA are interleaved at
// instruction granularity in an order drawn from a seed, so a kernel whose
// result depends on warp timing shows it. The emulator is stricter than a
// GPU: besides compute-sanitizer style memory checking against a Memory
// registry it reports shared-memory data races (vector clocks), missing
// fence.proxy.async between generic writes and async-proxy reads, reads of
// uninitialized registers, accesses to registers and shared memory that an
// in-flight wgmma owns, and deadlocks, each with the PTX lines involved.
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
///
/// Memory from alloc() also has an initialization shadow, one byte per byte:
/// it starts uninitialized, and a kernel load (ld, cp.async, TMA) of a byte
/// that no kernel store, host copy (write(), fill()) or device copy (copy())
/// initialized is an error. Host code that writes alloc() memory directly
/// must say so with markInitialized(). Ranges from registerRange() are
/// caller-owned host memory and always count as initialized.
class Memory {
public:
  Memory() = default;
  Memory(const Memory &) = delete;
  Memory &operator=(const Memory &) = delete;
  ~Memory();

  /// Allocates `bytes` of host memory (256-byte aligned) and registers it,
  /// all of it uninitialized.
  void *alloc(size_t bytes);
  /// Frees and unregisters memory returned by alloc(). Returns false if `ptr`
  /// was not returned by alloc().
  bool free(void *ptr);
  /// Registers caller-owned memory [ptr, ptr + bytes) as device memory
  /// (initialized: the emulator cannot see the host's writes to it).
  void registerRange(const void *ptr, size_t bytes);
  /// Unregisters a range registered with registerRange() or alloc().
  bool unregisterRange(const void *ptr);
  /// Returns true if [addr, addr + bytes) lies inside one registered range.
  bool contains(uint64_t addr, uint64_t bytes) const;

  /// Where an access lies: its range's base and size, and the shadow byte
  /// of its first byte (null for registerRange() memory, which is always
  /// initialized). A shadow byte is nonzero when its byte is initialized.
  struct Where {
    uint64_t base = 0, size = 0;
    uint8_t *init = nullptr;
  };
  /// Finds the range holding [addr, addr + bytes); false if none does.
  bool locate(uint64_t addr, uint64_t bytes, Where &out) const;

  /// Host-to-device copy: memcpy, and the bytes become initialized.
  void write(void *dst, const void *src, size_t bytes);
  /// Host memset of device memory; the bytes become initialized.
  void fill(void *dst, int byte, size_t bytes);
  /// Device-to-device copy (memmove): the data and, like valgrind, the
  /// initialization state are copied, so copying uninitialized bytes is no
  /// error but leaves the destination uninitialized.
  void copy(void *dst, const void *src, size_t bytes);
  /// The host wrote [ptr, ptr + bytes) directly (a communicator receiving
  /// into device memory): those bytes become initialized.
  void markInitialized(const void *ptr, size_t bytes);
  /// [ptr, ptr + bytes) of alloc() memory becomes uninitialized again (a
  /// scratch buffer reused for a new purpose: what it held is stale).
  void markUninitialized(const void *ptr, size_t bytes);
  /// The offset in [0, bytes) of the first uninitialized byte of [ptr,
  /// ptr + bytes), or `bytes` when all are initialized (or not alloc()
  /// memory).
  size_t firstUninitialized(const void *ptr, size_t bytes) const;
  /// "allocation 0x... + N (of S bytes)" for an address inside a range (for
  /// messages).
  std::string describe(uint64_t addr) const;

private:
  struct Range {
    uint64_t size = 0;
    std::vector<uint8_t> init; ///< empty: always initialized
  };
  std::map<uint64_t, Range> ranges; ///< base -> range
  std::map<uint64_t, void *> owned; ///< base -> allocation to release
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
  /// The `.target` architecture, e.g. 90 for sm_90a (0 when absent).
  unsigned smVersion() const;
  /// The `.target` name, e.g. "sm_90a" (empty when absent).
  const std::string &targetName() const;

  /// Internal: the decoded kernel, or null.
  const Kernel *findKernel(std::string_view name) const;

private:
  friend class Parser;
  Module();
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::string target;
  unsigned sm = 0;
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
  uint64_t wgmma = 0;          ///< warpgroup-wide wgmma.mma_async
  uint64_t wgmmaFlops = 0;     ///< 2*M*N*K summed over wgmma.mma_async
  uint64_t tmaLoadBytes = 0;   ///< bytes written to shared memory by TMA
  uint64_t tmaStoreBytes = 0;  ///< bytes read from shared memory by TMA
  uint64_t mbarrierWaits = 0;  ///< test_wait/try_wait executions (lanes)
  uint64_t ex2 = 0;            ///< ex2 lane operations
  uint64_t stmatrix = 0;       ///< warp-wide stmatrix
};

/// Options of one launch beyond cuLaunchKernel's arguments.
struct LaunchOptions {
  /// Seed of the warp interleaving. 0 takes RINGRT_EMU_SEED from the
  /// environment, or 1 when it is unset; the same seed gives the same order.
  uint64_t seed = 0;
  /// Dynamic shared memory the kernel opted into, like cuFuncSetAttribute(
  /// CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES). Static plus dynamic
  /// shared memory above 48 KiB needs an opt-in that covers the dynamic part,
  /// and the opt-in itself is limited by the module's `.target` (sm_80/87:
  /// 166912 bytes, sm_86/89: 101376, sm_90: 232448).
  unsigned maxDynamicSharedBytes = 0;
  /// Warp instructions one CTA may issue before the launch fails as a
  /// runaway, the last resort against hangs that the deadlock detection
  /// cannot see (a loop on ordinary memory). 0: 2^31.
  uint64_t maxInstructions = 0;
};

/// Bytes of a tensor map (CUtensorMap): 128, 64-byte aligned.
constexpr unsigned kTensorMapBytes = 128;

/// Encodes a tiled tensor map like the CUDA driver's cuTensorMapEncodeTiled,
/// with the same parameters and enum numbering (CUtensorMapDataType,
/// CUtensorMapInterleave, CUtensorMapSwizzle, CUtensorMapL2promotion,
/// CUtensorMapFloatOOBfill). `out` receives kTensorMapBytes bytes in an
/// emulator-private encoding that only cp.async.bulk.tensor under this
/// emulator understands (it is not the driver's format). It validates what
/// the driver documents (rank 1..5, 16-byte aligned address, dims in
/// [1, 2^32], strides multiples of 16 below 2^40, box dims in [1, 256] with
/// 16-byte inner rows, element strides in [1, 8], inner box within the
/// swizzle span, ...) and returns false with a message naming the
/// parameter, its value and what would be valid. The emulator does not
/// implement interleaved layouts, the packed 4/6-bit types or the
/// 128B_ATOM_* swizzles and rejects them with a message saying so.
bool encodeTensorMapTiled(void *out, unsigned dataType, unsigned rank,
                          const void *globalAddress, const uint64_t *globalDim,
                          const uint64_t *globalStrides,
                          const uint32_t *boxDim,
                          const uint32_t *elementStrides, unsigned interleave,
                          unsigned swizzle, unsigned l2Promotion,
                          unsigned oobFill, std::string &error);

/// Runs `kernel` of `module` over `grid` x `block` like cuLaunchKernel:
/// params[i] points at the value of the i-th .param. Returns false and sets
/// `error` on the first fault (naming the kernel, CTA, thread and address);
/// a faulting access is never performed.
bool launch(const Module &module, std::string_view kernel, Dim3 grid,
            Dim3 block, unsigned dynamicSharedBytes, void **params,
            Memory &mem, std::string &error, Profile *profile,
            const LaunchOptions &options);

/// As above with default options, except that the kernel is taken to have
/// opted into `dynamicSharedBytes` (as the cuda device backend does through
/// cuFuncSetAttribute before each launch).
bool launch(const Module &module, std::string_view kernel, Dim3 grid,
            Dim3 block, unsigned dynamicSharedBytes, void **params,
            Memory &mem, std::string &error, Profile *profile = nullptr);

} // namespace ringrt::emu

#endif // RINGRT_EMU_EMU_H
