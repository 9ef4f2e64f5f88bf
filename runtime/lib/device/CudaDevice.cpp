//===- CudaDevice.cpp - the CUDA driver device backend ----------*- C++ -*-===//
//
// This file implements device "cuda" over the CUDA driver API, loaded with
// dlopen("libcuda.so.1") (CudaDriver.h) so that ringrt never links the
// driver and runs (and reports RINGRT_ERR_NO_CUDA_DRIVER) where there is
// none. The device index is the local rank (env OMPI_COMM_WORLD_LOCAL_RANK,
// then MPI_LOCALRANKID, SLURM_LOCALID) modulo the device count. Kernels run
// on the compute stream and host-staged shift copies on the communication
// stream of CudaStreams, which also orders them with events and is the
// StreamProvider of comm "nccl". Staging buffers are page-locked and reused
// once the communication stream has passed their last copy. Kernels asking
// for more than 48 KiB of dynamic shared memory get the opt-in attribute
// before their first launch. The public copies (ringrt_memcpy_*) wait for
// both streams and are synchronous.
//
//===----------------------------------------------------------------------===//

#include "CudaStreams.h"
#include "DeviceBackend.h"
#include "KernelTimer.h"
#include "../Error.h"

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace ringrt;

namespace {

/// The local rank of this process on its node, from the launcher.
int localRank() {
  for (const char *var :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char *v = std::getenv(var))
      return std::atoi(v);
  return 0;
}

/// Page-locked staging buffers, each with the event recorded on the
/// communication stream after its last copy; a buffer is reused once that
/// event has completed.
class StagingPool {
public:
  explicit StagingPool(CudaStreams &streams) : s(streams) {}
  ~StagingPool() {
    // The owner has synchronized the communication stream.
    for (Buffer &b : buffers) {
      s.driver().cuMemFreeHost(b.host);
      s.destroyEvent(b.lastCopy);
    }
  }

  ringrt_status acquire(int64_t bytes, void **host) {
    *host = nullptr;
    auto size = static_cast<size_t>(bytes > 0 ? bytes : 1);
    for (Buffer &b : buffers) {
      if (b.busy || b.bytes < size)
        continue;
      bool done = false;
      if (ringrt_status st = s.queryEvent(b.lastCopy, done))
        return st;
      if (!done)
        continue;
      b.busy = true;
      *host = b.host;
      return RINGRT_OK;
    }
    Buffer b;
    b.bytes = size;
    if (ringrt_status st = s.check(s.driver().cuMemAllocHost(&b.host, size),
                                   "cuMemAllocHost"))
      return st;
    if (ringrt_status st = s.createEvent(&b.lastCopy)) {
      s.driver().cuMemFreeHost(b.host);
      return st;
    }
    // A new event has completed (never recorded).
    b.busy = true;
    buffers.push_back(b);
    *host = b.host;
    return RINGRT_OK;
  }

  void release(void *host) {
    for (Buffer &b : buffers)
      if (b.host == host && b.busy) {
        // On failure the buffer is simply never reused before a
        // synchronize (the event reports the failure when queried).
        (void)s.recordEvent(b.lastCopy, s.commStream());
        b.busy = false;
      }
  }

private:
  struct Buffer {
    void *host = nullptr;
    size_t bytes = 0;
    void *lastCopy = nullptr;
    bool busy = false;
  };
  CudaStreams &s;
  std::vector<Buffer> buffers;
};

class CudaDevice final : public DeviceBackend {
public:
  explicit CudaDevice(std::shared_ptr<CudaStreams> streams)
      : s(std::move(streams)), d(s->driver()), staging(*s), timer(*s) {}
  ~CudaDevice() override {
    (void)s->activate();
    (void)s->synchronize();
    for (auto &m : modules)
      d.cuModuleUnload(m.second);
    s->destroyEvent(copied);
    // `staging`, then (if comm "nccl" holds no reference) the streams and
    // the primary context go with the members.
  }

  const char *name() const override { return "cuda"; }
  bool hostAddressable() const override { return false; }
  std::shared_ptr<StreamProvider> streamProvider() override { return s; }

  ringrt_status loadModule(const char *ptx, void **module) override {
    *module = nullptr;
    auto it = modules.find(ptx);
    if (it == modules.end()) {
      cuda::Module m = nullptr;
      if (ringrt_status st =
              s->check(d.cuModuleLoadData(&m, ptx), "cuModuleLoadData"))
        return st;
      it = modules.emplace(ptx, m).first;
    }
    *module = it->second;
    return RINGRT_OK;
  }

  ringrt_status launch(void *module, const char *kernel, LaunchDims grid,
                       LaunchDims block, unsigned sharedBytes,
                       void **params) override {
    auto key = std::make_pair(module, std::string(kernel));
    auto it = functions.find(key);
    if (it == functions.end()) {
      cuda::Function f = nullptr;
      if (ringrt_status st = s->check(
              d.cuModuleGetFunction(&f, static_cast<cuda::Module>(module),
                                    kernel),
              "cuModuleGetFunction"))
        return st;
      it = functions.emplace(key, std::make_pair(f, 48u * 1024)).first;
    }
    auto &[fn, optedIn] = it->second;
    if (sharedBytes > optedIn) {
      if (ringrt_status st = s->check(
              d.cuFuncSetAttribute(
                  fn, cuda::FuncAttributeMaxDynamicSharedSizeBytes,
                  static_cast<int>(sharedBytes)),
              "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)"))
        return st;
      optedIn = sharedBytes;
    }
    // A captured launch is not timed: its events could not be queried.
    bool timed = !s->capturing();
    if (timed)
      if (ringrt_status st = timer.before(s->computeStream()))
        return st;
    if (ringrt_status st = s->check(
            d.cuLaunchKernel(fn, grid.x, grid.y, grid.z, block.x, block.y,
                             block.z, sharedBytes, s->computeStream(), params,
                             nullptr),
            kernel))
      return st;
    return timed ? timer.after(s->computeStream()) : RINGRT_OK;
  }

  ringrt_status timeKernels(bool on) override { return timer.enable(on); }
  ringrt_status kernelTime(double &ms, int64_t &launches) override {
    return timer.total(ms, launches);
  }

  ringrt_status encodeTensorMap(void *out,
                                const TensorMapRequest &r) override {
    if (!d.cuTensorMapEncodeTiled)
      return setError(RINGRT_ERR_UNSUPPORTED,
                      "device 'cuda': the driver has no "
                      "cuTensorMapEncodeTiled (CUDA 12 or newer is needed "
                      "for the sm_90a kernels)");
    return s->check(d.cuTensorMapEncodeTiled(
                        out, r.dataType, r.rank,
                        const_cast<void *>(r.globalAddress), r.globalDim,
                        r.globalStrides, r.boxDim, r.elementStrides,
                        r.interleave, r.swizzle, r.l2Promotion, r.oobFill),
                    "cuTensorMapEncodeTiled");
  }

  ringrt_status alloc(int64_t bytes, void **out) override {
    cuda::DevicePtr p = 0;
    ringrt_status st =
        s->check(d.cuMemAlloc(&p, static_cast<size_t>(bytes)), "cuMemAlloc");
    *out = st == RINGRT_OK ? reinterpret_cast<void *>(p) : nullptr;
    return st;
  }
  ringrt_status free(void *ptr) override {
    if (!ptr)
      return RINGRT_OK;
    return s->check(d.cuMemFree(reinterpret_cast<cuda::DevicePtr>(ptr)),
                    "cuMemFree");
  }
  ringrt_status copyToDevice(void *dst, const void *src,
                             int64_t bytes) override {
    if (ringrt_status st = synchronize())
      return st;
    return s->check(d.cuMemcpyHtoD(reinterpret_cast<cuda::DevicePtr>(dst), src,
                                   static_cast<size_t>(bytes)),
                    "cuMemcpyHtoD");
  }
  ringrt_status copyToHost(void *dst, const void *src,
                           int64_t bytes) override {
    if (ringrt_status st = synchronize())
      return st;
    return s->check(d.cuMemcpyDtoH(dst, reinterpret_cast<cuda::DevicePtr>(src),
                                   static_cast<size_t>(bytes)),
                    "cuMemcpyDtoH");
  }
  /// On the compute stream (the caller's during a call): ordered with the
  /// kernels, no synchronization (capturable).
  ringrt_status copyToDeviceAsync(void *dst, const void *src,
                                  int64_t bytes) override {
    return s->check(d.cuMemcpyHtoDAsync(reinterpret_cast<cuda::DevicePtr>(dst),
                                        src, static_cast<size_t>(bytes),
                                        s->computeStream()),
                    "cuMemcpyHtoDAsync");
  }
  ringrt_status synchronize() override { return s->synchronize(); }
  ringrt_status beginCall(void *stream) override {
    return s->beginCall(static_cast<cuda::Stream>(stream));
  }
  ringrt_status endCall() override { return s->endCall(); }
  bool capturing() const override { return s->capturing(); }
  ringrt_status waitStream(void *stream) override {
    return s->waitStream(static_cast<cuda::Stream>(stream));
  }

  ringrt_status allocStaging(int64_t bytes, void **host) override {
    return staging.acquire(bytes, host);
  }
  void freeStaging(void *host) override {
    if (host)
      staging.release(host);
  }

  /// The comm stream waits for the compute queued so far, copies `src` out
  /// and the host waits for that copy alone (MPI needs the bytes).
  ringrt_status stageOut(void *dst, const void *src, int64_t bytes) override {
    if (ringrt_status st = s->orderAfterCompute(s->commStream()))
      return st;
    if (ringrt_status st = s->check(
            d.cuMemcpyDtoHAsync(dst, reinterpret_cast<cuda::DevicePtr>(src),
                                static_cast<size_t>(bytes), s->commStream()),
            "cuMemcpyDtoHAsync"))
      return st;
    void *event = nullptr;
    if (ringrt_status st = copyEvent(event))
      return st;
    if (ringrt_status st = s->recordEvent(event, s->commStream()))
      return st;
    return s->hostWait(event);
  }

  /// The copy goes on the comm stream (after the compute event of this
  /// shift's stageOut, so after the kernels that read `dst` last) and the
  /// compute stream waits on its event; the host does not wait.
  ringrt_status stageIn(void *dst, const void *src, int64_t bytes) override {
    if (ringrt_status st = s->check(
            d.cuMemcpyHtoDAsync(reinterpret_cast<cuda::DevicePtr>(dst), src,
                                static_cast<size_t>(bytes), s->commStream()),
            "cuMemcpyHtoDAsync"))
      return st;
    void *event = nullptr;
    if (ringrt_status st = copyEvent(event))
      return st;
    return s->computeAfterComm(event);
  }

private:
  /// The event recorded after a staging copy (created on first use; reused
  /// because waits capture its latest record).
  ringrt_status copyEvent(void *&event) {
    if (!copied)
      if (ringrt_status st = s->createEvent(&copied))
        return st;
    event = copied;
    return RINGRT_OK;
  }

  std::shared_ptr<CudaStreams> s;
  const CudaDriver &d;
  StagingPool staging;
  KernelTimer timer;
  void *copied = nullptr;
  std::map<std::string, cuda::Module> modules;
  /// (module, kernel) -> (function, dynamic shared bytes allowed so far).
  std::map<std::pair<void *, std::string>, std::pair<cuda::Function, unsigned>>
      functions;
};

} // namespace

ringrt_status
ringrt::createCudaDeviceWithDriver(const CudaDriver &driver,
                                   std::unique_ptr<DeviceBackend> &out) {
  auto fail = [&](cuda::Result r, const char *what) {
    const char *msg = nullptr;
    if (driver.cuGetErrorString)
      driver.cuGetErrorString(r, &msg);
    return setErrorf(RINGRT_ERR_DEVICE, "device 'cuda': %s failed: %s (%d)",
                     what, msg ? msg : "unknown error", r);
  };
  if (cuda::Result r = driver.cuInit(0))
    return fail(r, "cuInit");
  int count = 0;
  if (cuda::Result r = driver.cuDeviceGetCount(&count))
    return fail(r, "cuDeviceGetCount");
  if (count < 1)
    return setError(RINGRT_ERR_DEVICE, "device 'cuda': no CUDA device");
  std::shared_ptr<CudaStreams> streams;
  if (ringrt_status st =
          CudaStreams::create(driver, localRank() % count, streams))
    return st;
  out = std::make_unique<CudaDevice>(std::move(streams));
  return RINGRT_OK;
}

ringrt_status ringrt::createCudaDevice(std::unique_ptr<DeviceBackend> &out) {
  CudaDriver driver;
  std::string error;
  if (!loadCudaDriver(driver, error))
    return setErrorf(RINGRT_ERR_NO_CUDA_DRIVER,
                     "device 'cuda': no CUDA driver (libcuda.so.1 not "
                     "found: %s)",
                     error.c_str());
  return createCudaDeviceWithDriver(driver, out);
}
