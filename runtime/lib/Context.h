//===- Context.h - ringrt context internals ---------------------*- C++ -*-===//
//
// This file declares the grid description a context holds, the definition
// of the opaque ringrt_context, and the option validation shared by the
// communicator backends.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_CONTEXT_H
#define RINGRT_LIB_CONTEXT_H

#include "Comm.h"
#include "StageStats.h"
#include "device/DeviceBackend.h"

#include <memory>
#include <string>
#include <vector>

namespace ringrt {

/// The shard grid and this rank's place in it.
/// The roles (ringrt_axis): ring, head group, dim slice, all-to-all.
constexpr int kNumRoles = 4;
/// The roles' names in diagnostics, indexed by ringrt_axis.
inline constexpr const char *kRoleNames[kNumRoles] = {"ring", "head_group",
                                                      "dim_slice", "a2a"};
/// The most grid axes: one per role.
constexpr int kMaxGridRank = 4;

struct GridInfo {
  int gridRank = 1;
  int64_t shape[kMaxGridRank] = {1, 1, 1, 1};
  int32_t axisOfRole[kNumRoles] = {-1, -1, -1, -1};
  int64_t worldRank = 0;
  int64_t worldSize = 1;
  int64_t coords[kMaxGridRank] = {0, 0, 0, 0};

  /// Number of ranks in the grid.
  int64_t size() const;
  /// Number of ranks along the axis playing `role` (1 if absent).
  int64_t roleSize(int role) const;
  /// This rank's coordinate on the axis playing `role` (0 if absent).
  int64_t roleCoord(int role) const;
  /// World rank of the rank whose coordinate on the axis playing `role` is
  /// `c`, all other coordinates equal to this rank's.
  int64_t worldRankAlong(int role, int64_t c) const;
  /// Sets worldRank and coords from a world rank.
  void place(int64_t rank);
  /// "[4,2,1] (ring axis 0, head_group axis 1, dim_slice axis -1)".
  std::string describe() const;
  /// "ring 4 x head_groups 2 x dim_slices 1".
  std::string describeRoles() const;
};

/// The per-peer blocks of one all-to-all over the context's a2a axis.
struct A2APlan {
  int64_t U = 1, sendBytes = 0, recvBytes = 0;
  std::vector<layout::A2ABlock> send, recv;
  /// Whether the receive blocks cover the whole destination (false when
  /// this rank's share is shorter than the buffer: its a2a padding rows
  /// must keep what they held).
  bool coversRecv() const {
    int64_t n = 0;
    for (const layout::A2ABlock &b : recv)
      n += b.bytes();
    return n == recvBytes;
  }
};

/// Checks an all-to-all of `mode` (a ringrt_a2a_mode) with `shape` against
/// the context's a2a axis and computes its blocks (ringrt_all_to_all).
ringrt_status prepareAllToAll(const ringrt_context *ctx, int32_t mode,
                              const layout::A2AShape &shape, int32_t id,
                              A2APlan &out);

/// Validates `options` into `grid` (everything but the world placement).
ringrt_status parseGridOptions(const ringrt_context_options &options,
                               GridInfo &grid);

/// Resolves the timeout: options, else env RINGRT_TIMEOUT_MS, else 300000.
/// Out-of-range values are RINGRT_ERR_INVALID_ARGUMENT.
ringrt_status resolveTimeoutMs(int64_t fromOptions, int64_t &out);

/// The RINGRT_FAULT testing hook (ringrt.h): if it names this process's
/// world rank and `stage` ("create", or a shift stage as a number when
/// `stage` is "shift"), dies, freezes or returns RINGRT_ERR_COMM. A
/// malformed RINGRT_FAULT is RINGRT_ERR_INVALID_ARGUMENT.
ringrt_status injectFault(const char *where, int64_t shiftStage);


} // namespace ringrt

/// The opaque context of the C API.
struct ringrt_context {
  ringrt::GridInfo grid;
  int64_t timeoutMs = 300000;
  uint64_t planHash = 0; ///< ringrt_context_options.plan_hash
  std::string device;
  std::unique_ptr<ringrt::CommBackend> comm;
  /// The device backend (device/DeviceBackend.h); destroyed before comm.
  std::unique_ptr<ringrt::DeviceBackend> deviceBackend;
  /// The workspace of generated entry points called without one
  /// (ringrt_cg_workspace): device memory of deviceBackend (host memory
  /// without one), allocated on first use, reallocated only when a larger
  /// one is needed, freed with the context.
  void *workspace = nullptr;
  int64_t workspaceBytes = 0;
  /// How many times the workspace was allocated (tests read it).
  int64_t workspaceAllocations = 0;
  /// Stage statistics of the generated entry's calls (ringrt_stage_stats_*).
  ringrt::StageStats stats;
  /// Kernel timing of CPU artifacts (device "cpu"): on, and the summed
  /// time and number of the kernel calls timed (ringrt_cg_kernel_begin).
  bool hostKernelTiming = false;
  double hostKernelMs = 0;
  int64_t hostKernelCalls = 0;
  /// Whether a generated entry's call is open on this context (between
  /// ringrt_cg_begin and ringrt_cg_end): ringrt_cg_begin refuses a second.
  bool callOpen = false;
  /// Whether ringrt_cg_progress polls (RINGRT_PROGRESS=0 turns it off).
  bool progressCalls = true;
  /// The CPU variant the last call of a multi-variant entry ran
  /// (ringrt_cg_select_cpu_variant); "" before.
  std::string cpuVariant;

  ringrt_context() = default;
  ringrt_context(const ringrt_context &) = delete;
  ringrt_context &operator=(const ringrt_context &) = delete;
  /// Frees the workspace (after the device work that may use it).
  ~ringrt_context();
};

#endif // RINGRT_LIB_CONTEXT_H
