//===- Comm.h - communicator backend interface ------------------*- C++ -*-===//
//
// This file declares the small interface every communicator backend of
// ringrt implements (ring shift, timed wait, role-axis all-reduce, barrier)
// and the factories of the backends: MPI (MpiComm.cpp) and a single-process
// backend (SelfComm.cpp). The NCCL backend (NcclComm.h) implements the same
// interface and uses the MPI backend as its control plane.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_COMM_H
#define RINGRT_LIB_COMM_H

#include "ringrt/Layout.h"
#include "ringrt/ringrt.h"

#include <memory>

/// Base of every backend's in-flight shift; the C API hands it out opaquely.
struct ringrt_request {
  virtual ~ringrt_request() = default;
  /// The shift's stage, when it started, and when a progress call or the
  /// wait first saw it complete (0: not yet); seconds on the steady clock
  /// (StageStats.h). The timings feed the context's stage statistics.
  int32_t statStage = 0;
  double startedAt = 0, completedAt = 0;
};

namespace ringrt {

struct GridInfo;

/// A communicator backend bound to one context's grid.
class CommBackend {
public:
  virtual ~CommBackend() = default;

  /// Starts sending `bytes` at `send` to the ring successor and receiving
  /// into `recv` from the ring predecessor.
  virtual ringrt_status shiftStart(const void *send, void *recv,
                                   int64_t bytes, int32_t stage, int32_t tag,
                                   std::unique_ptr<ringrt_request> &out) = 0;

  /// Starts a shift in `direction`: +1 is shiftStart; −1 sends to the ring
  /// predecessor (p−1 mod P) and receives from the successor (the backward
  /// half of a sliding window's halo exchange). The default serves +1 only
  /// and returns RINGRT_ERR_UNSUPPORTED for −1, without a message.
  virtual ringrt_status shiftStartDir(const void *send, void *recv,
                                      int64_t bytes, int32_t stage,
                                      int32_t tag, int32_t direction,
                                      std::unique_ptr<ringrt_request> &out) {
    if (direction == 1)
      return shiftStart(send, recv, bytes, stage, tag, out);
    return RINGRT_ERR_UNSUPPORTED;
  }

  /// Completes `req` within the context's timeout.
  virtual ringrt_status wait(ringrt_request &req) = 0;

  /// Lets the transfers in flight advance without blocking (the generated
  /// kernels call it between tiles through ringrt_cg_progress) and sets
  /// completedAt of those it finds complete. Returns how many shifts are
  /// still in flight. Backends whose transfers advance by themselves (the
  /// self copy, NCCL on its stream) keep the default: nothing to do.
  virtual int progress() { return 0; }

  /// In-place f32 sum over the ranks of the axis playing `role`.
  virtual ringrt_status allreduceSumF32(float *buf, int64_t count, int role,
                                        int32_t stage) = 0;

  /// The in-place reduce-scatter of rows over the axis playing `role`: `buf`
  /// is [batch, rows, cols] floats and coordinate c of the axis owns rows
  /// [bounds[c], bounds[c+1]) (bounds has axis size + 1 nondecreasing
  /// entries within [0, rows]). Afterwards this rank's rows hold the sum
  /// over the axis in coordinate order (c = 0 first, as allreduceSumF32
  /// sums); its other rows are unspecified. The default returns
  /// RINGRT_ERR_UNSUPPORTED without a message (the caller reports it).
  virtual ringrt_status reduceScatterRowsF32(float *buf, int64_t batch,
                                             int64_t rows, int64_t cols,
                                             const int64_t *bounds, int role,
                                             int32_t stage) {
    (void)buf, (void)batch, (void)rows, (void)cols, (void)bounds, (void)role,
        (void)stage;
    return RINGRT_ERR_UNSUPPORTED;
  }

  /// The all-to-all over the a2a axis (ringrt_all_to_all): sends
  /// `sendBlocks[j]` of `send` to a2a rank j and receives a2a rank j's into
  /// `recvBlocks[j]` of `recv`, for every j of the U ranks (the rank's own
  /// block is copied). The default serves a2a axes of size 1 only and
  /// returns RINGRT_ERR_UNSUPPORTED without a message otherwise (the caller
  /// reports it).
  virtual ringrt_status allToAll(const void *send, void *recv,
                                 const layout::A2ABlock *sendBlocks,
                                 const layout::A2ABlock *recvBlocks,
                                 int64_t U, int32_t id) {
    (void)id;
    if (U != 1)
      return RINGRT_ERR_UNSUPPORTED;
    layout::copyA2ABlock(static_cast<const char *>(send), sendBlocks[0],
                         static_cast<char *>(recv), recvBlocks[0]);
    return RINGRT_OK;
  }

  /// Synchronizes every rank of the grid.
  virtual ringrt_status barrier() = 0;

  /// Whether shiftStart and allreduceSumF32 take device pointers (comm
  /// "nccl"), so that device buffers need no host staging.
  virtual bool takesDevicePointers() const { return false; }

  /// Control plane for backends layered on this one (the NCCL backend sends
  /// its unique ids through it): copies `bytes` at `buf` from the rank whose
  /// coordinate on the axis playing `role` is `root` to the other ranks of
  /// that axis. Collective over that axis, timed like wait. The default
  /// (backends without a control plane) returns RINGRT_ERR_UNSUPPORTED
  /// without a message; the caller reports it.
  virtual ringrt_status broadcastBytes(void *buf, int64_t bytes, int role,
                                       int64_t root) {
    (void)buf, (void)bytes, (void)role, (void)root;
    return RINGRT_ERR_UNSUPPORTED;
  }
};

/// Creates the single-process backend; the grid must have one rank.
ringrt_status createSelfComm(GridInfo &grid,
                             std::unique_ptr<CommBackend> &out);

/// Creates the MPI backend over MPI_COMM_WORLD. Collective: exchanges every
/// rank's `localStatus`, plan hash and grid so that option errors, plan
/// mismatches and a wrong world size fail on every rank, then splits one
/// communicator per role axis. Sets grid.worldRank/worldSize/coords.
ringrt_status createMpiComm(GridInfo &grid, ringrt_status localStatus,
                            uint64_t planHash, int64_t timeoutMs,
                            std::unique_ptr<CommBackend> &out);

} // namespace ringrt

#endif // RINGRT_LIB_COMM_H
