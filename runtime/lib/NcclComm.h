//===- NcclComm.h - NCCL communicator backend -------------------*- C++ -*-===//
//
// This file declares the NCCL communicator backend of ringrt (comm "nccl"):
// the loader of libnccl.so.2, the StreamProvider interface through which a
// device backend hands CUDA streams and events to NCCL, and the factories
// that Context.cpp (and the unit tests) call.
//
// How the pieces fit:
//
//   * Control plane: the MPI backend (createMpiComm) does the creation
//     handshake (option errors, plan mismatch, world size fail on every
//     rank) and owns one MPI communicator per role axis. The NCCL backend
//     keeps it, broadcasts each NCCL unique id over the role's MPI
//     communicator (CommBackend::broadcastBytes) and delegates barrier() to
//     it. The launch stays `mpirun -np N`.
//   * Data plane: one NCCL communicator for the ring axis (ranks sharing the
//     head-group and dim-slice coordinates, NCCL rank = ring coordinate) and
//     one for the dim-slice axis when it has more than one rank (the slice
//     all-reduce). Shifts and all-reduces are enqueued on one communication
//     stream, separate from compute, and completed by polling an event;
//     inside a CUDA graph capture (StreamProvider::capturing) they are not
//     polled, only ordered before the compute that reads them.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_NCCLCOMM_H
#define RINGRT_LIB_NCCLCOMM_H

#include "Comm.h"
#include "NcclApi.h"
#include "TestingApi.h"

#include <memory>

namespace ringrt {

struct GridInfo;

/// Stream and event operations the NCCL backend needs from the device
/// backend. It is deliberately tiny so that the CUDA device backend
/// (runtime/lib/device/) can implement it over the driver API it already
/// loads, and tests can fake it.
///
/// Contract for implementers (the CUDA device backend):
///   * Handles are opaque `void *`: a stream is a `CUstream` (it is passed to
///     NCCL as its `cudaStream_t`), an event a `CUevent`.
///   * activate() makes the backend's CUDA context current on the calling
///     thread (cuCtxSetCurrent); the NCCL backend calls it before creating
///     its communicators and before enqueuing work, because NCCL binds to the
///     current device.
///   * createStream(): a non-blocking stream (cuStreamCreate with
///     CU_STREAM_NON_BLOCKING) used only for communication.
///   * createEvent(): an event without timing (CU_EVENT_DISABLE_TIMING).
///   * orderAfterCompute(stream): work enqueued on `stream` afterwards must
///     start only after all device work the backend has already enqueued
///     (the kernels that produced the send buffer): record an event on the
///     compute stream(s) and cuStreamWaitEvent(stream, ...). A backend that
///     runs compute synchronously may do nothing.
///   * orderComputeAfter(event): device work the backend enqueues afterwards
///     (the kernels that read the received buffer) must start only after
///     `event` (recorded after a transfer): cuStreamWaitEvent on the compute
///     stream(s). The default does nothing (compute runs synchronously).
///   * recordEvent(event, stream): cuEventRecord.
///   * queryEvent(event, done): cuEventQuery; CUDA_SUCCESS -> done = true,
///     CUDA_ERROR_NOT_READY -> done = false, RINGRT_OK in both cases; any
///     other result -> RINGRT_ERR_DEVICE with a message (setError).
///   * capturing(): whether the call in progress is being captured into a
///     CUDA graph (its stream was capturing when it began). The NCCL
///     backend then only orders the streams on the device: a captured
///     event cannot be queried, and the operation runs at each replay, not
///     now.
///   * destroyStream/destroyEvent: never fail; called from destructors.
///   * Every method is called from the thread that uses the context; the
///     provider must outlive nothing but the shared_ptrs that hold it.
class StreamProvider {
public:
  virtual ~StreamProvider() = default;
  /// The device backend's name, for messages ("cuda").
  virtual const char *name() const = 0;
  virtual ringrt_status activate() = 0;
  virtual ringrt_status createStream(void **stream) = 0;
  virtual void destroyStream(void *stream) = 0;
  virtual ringrt_status createEvent(void **event) = 0;
  virtual void destroyEvent(void *event) = 0;
  virtual ringrt_status orderAfterCompute(void *stream) = 0;
  virtual ringrt_status orderComputeAfter(void *event) {
    (void)event;
    return RINGRT_OK;
  }
  virtual ringrt_status recordEvent(void *event, void *stream) = 0;
  virtual ringrt_status queryEvent(void *event, bool &done) = 0;
  virtual bool capturing() const { return false; }
};

/// The library comm "nccl" loads unless env RINGRT_NCCL_LIBRARY names
/// another (a path or soname).
constexpr const char *kNcclLibrary = "libnccl.so.2";

/// Opens `library` with dlopen and resolves the entry points of NcclApi.
/// On failure returns RINGRT_ERR_NO_NCCL with the message
/// `NCCL not available (<library> not found); use comm "mpi"` (plus the
/// dlerror() text or the missing symbol) and leaves `api` empty.
///
/// The handle belongs to `api` (release it with unloadNcclApi); there is no
/// ringrt-global loader state, so contexts never share or race on it. The
/// library is opened with RTLD_NODELETE: the dynamic linker reference-counts
/// the mapping across handles, and NODELETE keeps it mapped once loaded,
/// because NCCL registers process-wide state (atexit handlers, proxy and
/// bootstrap threads, a CUDA runtime) that must not be unmapped under a
/// second context or at exit.
RINGRT_TESTING_API ringrt_status loadNcclApi(const char *library, NcclApi &api);

/// Drops `api`'s reference on the library (see loadNcclApi) and clears it.
RINGRT_TESTING_API void unloadNcclApi(NcclApi &api);

/// Builds the NCCL backend from its parts (the testable core of
/// createNcclComm). `grid` must already be placed (worldRank, coords);
/// `control` is the control plane (the MPI backend, or a fake in tests).
/// Collective over the grid: every rank makes its communication stream and
/// the ranks agree (a sum over every role axis of the control plane) that
/// all succeeded; then for the ring axis (always, even of size 1, so that a
/// one-rank shift is a device copy done by NCCL) and the dim-slice axis (if
/// it has more than one rank), the rank with coordinate 0 calls
/// ncclGetUniqueId and broadcasts {its status, the id} over that axis, and
/// every rank calls ncclCommInitRank(size, id, coordinate); the ranks agree
/// once more. So a failure on any rank fails creation on every rank. An
/// ncclCommInitRank that has not returned after `timeoutMs` (a peer died or
/// froze after the id broadcast) fails with RINGRT_ERR_TIMEOUT; the call is
/// left on a helper thread that aborts the communicator if it ever comes
/// back (NCCL has no timeout of its own there). On success `out` owns `api`, `streams` and `control`; on
/// failure everything made so far is released (the api too).
RINGRT_TESTING_API ringrt_status createNcclCommFromParts(
    const GridInfo &grid, int64_t timeoutMs, NcclApi api,
    std::shared_ptr<StreamProvider> streams,
    std::unique_ptr<CommBackend> control, std::unique_ptr<CommBackend> &out);

/// The comm "nccl" factory that Context.cpp calls. Local checks first:
/// `localStatus` (option and device errors), then loading NCCL
/// (RINGRT_ERR_NO_NCCL), then `streams` (null: the device backend `device`
/// has no CUDA streams, RINGRT_ERR_UNSUPPORTED). The result goes through
/// the MPI creation handshake (createMpiComm), so every rank fails if one
/// does, each naming the cause; then createNcclCommFromParts.
ringrt_status createNcclComm(GridInfo &grid, ringrt_status localStatus,
                             uint64_t planHash, int64_t timeoutMs,
                             const char *device,
                             std::shared_ptr<StreamProvider> streams,
                             std::unique_ptr<CommBackend> &out);

} // namespace ringrt

#endif // RINGRT_LIB_NCCLCOMM_H
