//===- DeviceBackend.h - device backend interface of ringrt -----*- C++ -*-===//
//
// This file declares the small interface every device backend of ringrt
// implements (PTX module loading, kernel launch, device memory, copies,
// synchronization), the factory that picks one from
// `ringrt_context_options.device`, and the host staging of ring shifts for
// backends whose memory the host cannot address.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_DEVICE_DEVICEBACKEND_H
#define RINGRT_LIB_DEVICE_DEVICEBACKEND_H

#include "../TestingApi.h"
#include "ringrt/ringrt.h"

#include <memory>

namespace ringrt {

class StreamProvider;
struct CudaDriver;

/// Grid or block extent of a launch.
struct LaunchDims {
  unsigned x = 1, y = 1, z = 1;
};

/// The arguments of cuTensorMapEncodeTiled, in its order and with cuda.h's
/// enum numbering (CUtensorMapDataType, CUtensorMapInterleave,
/// CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill).
/// Arrays have `rank` entries (globalStrides: rank - 1, bytes, for
/// dimensions 1..rank-1).
struct TensorMapRequest {
  unsigned dataType = 0;
  unsigned rank = 0;
  const void *globalAddress = nullptr;
  const uint64_t *globalDim = nullptr;
  const uint64_t *globalStrides = nullptr;
  const uint32_t *boxDim = nullptr;
  const uint32_t *elementStrides = nullptr;
  unsigned interleave = 0, swizzle = 0, l2Promotion = 0, oobFill = 0;
};

/// Bytes of an encoded tensor map (CUtensorMap, 64-byte aligned).
constexpr unsigned kTensorMapBytes = 128;

/// A device: where generated kernels run and their buffers live.
class DeviceBackend {
public:
  virtual ~DeviceBackend() = default;

  /// "cpu", "emu" or "cuda".
  virtual const char *name() const = 0;

  /// Whether device pointers are host pointers, so that the communicator
  /// can send and receive device buffers directly.
  virtual bool hostAddressable() const = 0;

  /// Loads (once per distinct text; the backend caches and owns the
  /// handles) the PTX module `ptx` (NUL-terminated) and returns its handle.
  virtual ringrt_status loadModule(const char *ptx, void **module) = 0;

  /// Launches `kernel` of `module` like cuLaunchKernel: params[i] points at
  /// the i-th parameter's value. May return before the kernel finishes.
  virtual ringrt_status launch(void *module, const char *kernel,
                               LaunchDims grid, LaunchDims block,
                               unsigned sharedBytes, void **params) = 0;

  /// Encodes a TMA tensor map for `r` into `out` (kTensorMapBytes,
  /// 64-byte aligned host memory) that kernels of this device take as a
  /// `__grid_constant__` parameter. The default (device "cpu") fails with
  /// RINGRT_ERR_UNSUPPORTED.
  virtual ringrt_status encodeTensorMap(void *out, const TensorMapRequest &r);

  /// Allocates `bytes` (> 0) of device memory, 256-byte aligned.
  virtual ringrt_status alloc(int64_t bytes, void **out) = 0;
  /// Frees memory from alloc(); null is a no-op.
  virtual ringrt_status free(void *ptr) = 0;

  virtual ringrt_status copyToDevice(void *dst, const void *src,
                                     int64_t bytes) = 0;
  virtual ringrt_status copyToHost(void *dst, const void *src,
                                   int64_t bytes) = 0;
  /// Copies host `src` to device `dst` in stream order: after the work
  /// queued so far on the call's stream, before what follows; need not
  /// wait (ringrt_cg_copy_to_device). copyToDevice by default (devices
  /// whose launches are synchronous).
  virtual ringrt_status copyToDeviceAsync(void *dst, const void *src,
                                          int64_t bytes) {
    return copyToDevice(dst, src, bytes);
  }

  /// Waits until every launch and copy issued so far has finished.
  virtual ringrt_status synchronize() = 0;

  /// One call of a generated entry point (ringrt_cg_begin/end): its
  /// launches and transfers go on `stream` (a CUstream for "cuda"; NULL:
  /// the device's own), ordered after the work queued before the call;
  /// endCall orders what follows on the device's own stream after the
  /// call, and never blocks the host. The defaults suit devices whose
  /// launches are synchronous: they have no streams, and a non-NULL one is
  /// RINGRT_ERR_INVALID_ARGUMENT.
  virtual ringrt_status beginCall(void *stream);
  virtual ringrt_status endCall() { return RINGRT_OK; }
  /// Whether the call in progress (beginCall to endCall) is being captured
  /// into a CUDA graph: its work is recorded, not run, so nothing of it may
  /// block the host, allocate or free (refuseUnderCapture).
  virtual bool capturing() const { return false; }
  /// Blocks until the work queued on `stream` (NULL: the device's own)
  /// has finished; synchronize() by default.
  virtual ringrt_status waitStream(void *stream);

  /// Host staging of ring shifts (shiftNeedsHostStaging). The defaults suit
  /// backends whose launches and copies are synchronous; device "cuda"
  /// overrides them to put the copies on its communication stream, ordered
  /// by events (CudaStreams.h), so that transfers overlap compute.
  ///
  /// Host memory for staging `bytes` (page-locked for cuda).
  virtual ringrt_status allocStaging(int64_t bytes, void **host);
  /// Returns memory from allocStaging once the copies queued so far that
  /// use it are done; null is a no-op.
  virtual void freeStaging(void *host);
  /// Copies device `src` to host `dst` after the device work queued so far,
  /// and waits for that copy only.
  virtual ringrt_status stageOut(void *dst, const void *src, int64_t bytes);
  /// Copies host `src` (staging memory) to device `dst` so that device work
  /// queued afterwards sees it; need not wait for the copy.
  virtual ringrt_status stageIn(void *dst, const void *src, int64_t bytes);

  /// Whether the device keeps an initialization shadow of its memory (the
  /// emu device): only then do the callers below do the bookkeeping
  /// (format messages, wrap requests, walk all-to-all blocks), so the CPU
  /// and CUDA devices pay nothing for it on the shift path.
  virtual bool tracksInitialization() const { return false; }
  /// Direct host access to device memory (hostAddressable devices, whose
  /// communicator sends and receives device buffers in place). The emu
  /// device keeps an initialization shadow of its memory: hostReads fails
  /// (RINGRT_ERR_DEVICE, naming `what`) when a byte of [ptr, ptr + bytes)
  /// was never written, since a transfer would hand another rank data
  /// nobody wrote; hostWrote marks received bytes initialized. The defaults
  /// do nothing.
  virtual ringrt_status hostReads(const void *ptr, int64_t bytes,
                                  const char *what) {
    (void)ptr, (void)bytes, (void)what;
    return RINGRT_OK;
  }
  virtual void hostWrote(void *ptr, int64_t bytes) { (void)ptr, (void)bytes; }
  /// [ptr, ptr + bytes) starts a new life as scratch memory (a generated
  /// entry's workspace at the start of each call): what it holds is stale,
  /// and the emu device makes a kernel's read of it before a write an
  /// error. The default does nothing.
  virtual void scratchReused(void *ptr, int64_t bytes) {
    (void)ptr, (void)bytes;
  }

  /// The CUDA streams and events comm "nccl" enqueues on (NcclComm.h); null
  /// for backends without CUDA streams.
  virtual std::shared_ptr<StreamProvider> streamProvider() { return nullptr; }

  /// Counters summed over the launches so far, where the backend keeps
  /// them (emu); false otherwise.
  virtual bool profile(ringrt_device_profile *out) const {
    (void)out;
    return false;
  }

  /// Starts or stops timing each launch with device events, and returns
  /// the summed time of the launches timed since it started
  /// (ringrt_device_time_kernels); RINGRT_ERR_UNSUPPORTED by default.
  virtual ringrt_status timeKernels(bool on);
  virtual ringrt_status kernelTime(double &ms, int64_t &launches);
};

/// Creates the backend named `device` ("cpu", "emu", "cuda"). Fails with
/// RINGRT_ERR_NO_CUDA_DRIVER when "cuda" has no driver, and
/// RINGRT_ERR_INVALID_ARGUMENT for an unknown name.
ringrt_status createDeviceBackend(const char *device,
                                  std::unique_ptr<DeviceBackend> &out);

/// The host-memory backend of device "cpu" (no kernels).
std::unique_ptr<DeviceBackend> createCpuDevice();
/// The PTX emulator backend (ringrt::emu).
std::unique_ptr<DeviceBackend> createEmuDevice();
/// The CUDA driver backend; fails when libcuda.so.1 cannot be loaded or
/// initialized.
ringrt_status createCudaDevice(std::unique_ptr<DeviceBackend> &out);
/// The CUDA backend over an already loaded driver table (a fake in tests):
/// cuInit, device local-rank mod count, streams (CudaStreams.h).
RINGRT_TESTING_API ringrt_status
createCudaDeviceWithDriver(const CudaDriver &driver,
                           std::unique_ptr<DeviceBackend> &out);

/// Whether ring shifts of this context must be staged through host memory:
/// the device's memory is not host-addressable and the communicator takes
/// host pointers (false for comm "nccl", which takes device pointers).
RINGRT_TESTING_API bool shiftNeedsHostStaging(const ringrt_context *ctx);

/// RINGRT_ERR_UNSUPPORTED when the call in progress on `ctx` is being
/// captured into a CUDA graph (DeviceBackend::capturing): "<what>, which
/// cannot be captured: ..." (`what` says how it blocks the host);
/// RINGRT_OK otherwise. Called where a GPU entry's
/// call must block: the MPI-staged shift, all-reduce and all-to-all, and
/// synchronize.
ringrt_status refuseUnderCapture(const ringrt_context *ctx, const char *what);

/// Starts a ring shift of device buffers through host staging buffers:
/// copies `send` to the host after the device work queued so far
/// (DeviceBackend::stageOut) and starts the host shift.
ringrt_status stagedShiftStart(ringrt_context *ctx, const void *send,
                               void *recv, int64_t bytes, int32_t stage,
                               int32_t tag, ringrt_request **req,
                               int32_t direction = 1);

/// Starts a ring shift of device buffers that the communicator addresses
/// in place, on a device that tracksInitialization: checks `send` with
/// DeviceBackend::hostReads and, when the shift completes, reports `recv`
/// to hostWrote (deviceShiftWait).
ringrt_status directShiftStart(ringrt_context *ctx, const void *send,
                               void *recv, int64_t bytes, int32_t stage,
                               int32_t tag, ringrt_request **req,
                               int32_t direction = 1);

/// Completes a shift: for a staged request, waits for the host shift and
/// copies the received bytes to the device (DeviceBackend::stageIn); for a
/// direct one, waits and reports the received bytes (hostWrote);
/// otherwise ringrt_wait. Frees `req` either way.
ringrt_status deviceShiftWait(ringrt_context *ctx, ringrt_request *req);

} // namespace ringrt

#endif // RINGRT_LIB_DEVICE_DEVICEBACKEND_H
