//===- CudaDevice.cpp - the CUDA driver device backend ----------*- C++ -*-===//
//
// This file implements device "cuda" over the CUDA driver API, loaded with
// dlopen("libcuda.so.1") so that ringrt never links the driver and runs (and
// reports RINGRT_ERR_NO_CUDA_DRIVER) where there is none. The device index
// is the local rank (env OMPI_COMM_WORLD_LOCAL_RANK, then MPI_LOCALRANKID,
// SLURM_LOCALID) modulo the device count; the context is the device's
// primary context; kernels run on one stream of the backend, copies are
// synchronous. Kernels asking for more than 48 KiB of dynamic shared memory
// get the opt-in attribute before their first launch.
//
//===----------------------------------------------------------------------===//

#include "DeviceBackend.h"
#include "../Error.h"

#include <cstdlib>
#include <dlfcn.h>
#include <map>
#include <string>

using namespace ringrt;

namespace {

// The few driver types and constants used, as cuda.h defines them (so that
// ringrt builds without the CUDA toolkit).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;

/// The driver entry points, resolved by name from libcuda.so.1.
struct Driver {
  void *handle = nullptr;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuGetErrorString)(CUresult, const char **);

  /// Loads the driver; sets `error` to what is missing on failure.
  bool load(std::string &error) {
    handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *why = dlerror();
      error = why ? why : "unknown error";
      return false;
    }
    bool ok = true;
    auto get = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(handle, name));
      if (!fn) {
        ok = false;
        error += std::string(error.empty() ? "" : ", ") + name;
      }
    };
    get(cuInit, "cuInit");
    get(cuDeviceGetCount, "cuDeviceGetCount");
    get(cuDeviceGet, "cuDeviceGet");
    get(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    get(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    get(cuCtxSetCurrent, "cuCtxSetCurrent");
    get(cuModuleLoadData, "cuModuleLoadData");
    get(cuModuleUnload, "cuModuleUnload");
    get(cuModuleGetFunction, "cuModuleGetFunction");
    get(cuFuncSetAttribute, "cuFuncSetAttribute");
    get(cuLaunchKernel, "cuLaunchKernel");
    get(cuMemAlloc, "cuMemAlloc_v2");
    get(cuMemFree, "cuMemFree_v2");
    get(cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    get(cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    get(cuStreamCreate, "cuStreamCreate");
    get(cuStreamDestroy, "cuStreamDestroy_v2");
    get(cuStreamSynchronize, "cuStreamSynchronize");
    get(cuStreamWaitEvent, "cuStreamWaitEvent");
    get(cuEventCreate, "cuEventCreate");
    get(cuEventRecord, "cuEventRecord");
    get(cuEventDestroy, "cuEventDestroy_v2");
    get(cuGetErrorString, "cuGetErrorString");
    if (!ok)
      error = "libcuda.so.1 lacks " + error;
    return ok;
  }
};

/// The local rank of this process on its node, from the launcher.
int localRank() {
  for (const char *var :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char *v = std::getenv(var))
      return std::atoi(v);
  return 0;
}

class CudaDevice final : public DeviceBackend {
public:
  ~CudaDevice() override {
    if (!ready)
      return;
    d.cuCtxSetCurrent(context);
    for (auto &m : modules)
      d.cuModuleUnload(m.second);
    if (stream)
      d.cuStreamDestroy(stream);
    d.cuDevicePrimaryCtxRelease(device);
  }

  /// Loads the driver and sets up the device, context and stream.
  ringrt_status init() {
    std::string error;
    if (!d.load(error))
      return setErrorf(RINGRT_ERR_NO_CUDA_DRIVER,
                       "device 'cuda': no CUDA driver (libcuda.so.1 not "
                       "found: %s)",
                       error.c_str());
    int count = 0;
    if (ringrt_status st = check(d.cuInit(0), "cuInit"))
      return st;
    if (ringrt_status st = check(d.cuDeviceGetCount(&count), "cuDeviceGetCount"))
      return st;
    if (count < 1)
      return setError(RINGRT_ERR_DEVICE, "device 'cuda': no CUDA device");
    index = localRank() % count;
    if (ringrt_status st = check(d.cuDeviceGet(&device, index), "cuDeviceGet"))
      return st;
    if (ringrt_status st = check(d.cuDevicePrimaryCtxRetain(&context, device),
                                 "cuDevicePrimaryCtxRetain"))
      return st;
    ready = true;
    if (ringrt_status st = check(d.cuCtxSetCurrent(context), "cuCtxSetCurrent"))
      return st;
    return check(d.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
                 "cuStreamCreate");
  }

  const char *name() const override { return "cuda"; }
  bool hostAddressable() const override { return false; }

  ringrt_status loadModule(const char *ptx, void **module) override {
    *module = nullptr;
    auto it = modules.find(ptx);
    if (it == modules.end()) {
      CUmodule m = nullptr;
      if (ringrt_status st = check(d.cuModuleLoadData(&m, ptx),
                                   "cuModuleLoadData"))
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
      CUfunction f = nullptr;
      if (ringrt_status st = check(
              d.cuModuleGetFunction(&f, static_cast<CUmodule>(module), kernel),
              "cuModuleGetFunction"))
        return st;
      it = functions.emplace(key, std::make_pair(f, 48u * 1024)).first;
    }
    auto &[fn, optedIn] = it->second;
    if (sharedBytes > optedIn) {
      if (ringrt_status st = check(
              d.cuFuncSetAttribute(
                  fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                  static_cast<int>(sharedBytes)),
              "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)"))
        return st;
      optedIn = sharedBytes;
    }
    return check(d.cuLaunchKernel(fn, grid.x, grid.y, grid.z, block.x,
                                  block.y, block.z, sharedBytes, stream,
                                  params, nullptr),
                 kernel);
  }

  ringrt_status alloc(int64_t bytes, void **out) override {
    CUdeviceptr p = 0;
    ringrt_status st = check(d.cuMemAlloc(&p, static_cast<size_t>(bytes)),
                             "cuMemAlloc");
    *out = st == RINGRT_OK ? reinterpret_cast<void *>(p) : nullptr;
    return st;
  }
  ringrt_status free(void *ptr) override {
    if (!ptr)
      return RINGRT_OK;
    return check(d.cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)), "cuMemFree");
  }
  ringrt_status copyToDevice(void *dst, const void *src,
                             int64_t bytes) override {
    if (ringrt_status st = synchronize())
      return st;
    return check(d.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst), src,
                                static_cast<size_t>(bytes)),
                 "cuMemcpyHtoD");
  }
  ringrt_status copyToHost(void *dst, const void *src,
                           int64_t bytes) override {
    if (ringrt_status st = synchronize())
      return st;
    return check(d.cuMemcpyDtoH(dst, reinterpret_cast<CUdeviceptr>(src),
                                static_cast<size_t>(bytes)),
                 "cuMemcpyDtoH");
  }
  ringrt_status synchronize() override {
    return check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

private:
  ringrt_status check(CUresult r, const char *what) {
    if (r == CUDA_SUCCESS)
      return RINGRT_OK;
    const char *msg = nullptr;
    if (d.cuGetErrorString)
      d.cuGetErrorString(r, &msg);
    return setErrorf(RINGRT_ERR_DEVICE, "device 'cuda' %d: %s failed: %s (%d)",
                     index, what, msg ? msg : "unknown error", r);
  }

  Driver d{};
  bool ready = false;
  int index = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  std::map<std::string, CUmodule> modules;
  /// (module, kernel) -> (function, dynamic shared bytes allowed so far).
  std::map<std::pair<void *, std::string>, std::pair<CUfunction, unsigned>>
      functions;
};
} // namespace

ringrt_status ringrt::createCudaDevice(std::unique_ptr<DeviceBackend> &out) {
  auto dev = std::make_unique<CudaDevice>();
  if (ringrt_status st = dev->init())
    return st;
  out = std::move(dev);
  return RINGRT_OK;
}
