//===- CudaDriver.cpp - loading libcuda.so.1 --------------------*- C++ -*-===//
//
// This file implements the loader of the CUDA driver table (CudaDriver.h):
// dlopen("libcuda.so.1") and dlsym of every entry point ringrt calls, by the
// versioned names cuda.h maps them to.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <dlfcn.h>
#include <type_traits>

using namespace ringrt;

bool ringrt::loadCudaDriver(CudaDriver &driver, std::string &error) {
  CudaDriver d;
  d.handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!d.handle) {
    const char *why = dlerror();
    error = why ? why : "unknown error";
    return false;
  }
  std::string missing;
  auto get = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(d.handle, name));
    if (!fn)
      missing += std::string(missing.empty() ? "" : ", ") + name;
  };
  get(d.cuInit, "cuInit");
  get(d.cuDeviceGetCount, "cuDeviceGetCount");
  get(d.cuDeviceGet, "cuDeviceGet");
  get(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  get(d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  get(d.cuCtxSetCurrent, "cuCtxSetCurrent");
  get(d.cuModuleLoadData, "cuModuleLoadData");
  get(d.cuModuleUnload, "cuModuleUnload");
  get(d.cuModuleGetFunction, "cuModuleGetFunction");
  get(d.cuFuncSetAttribute, "cuFuncSetAttribute");
  get(d.cuLaunchKernel, "cuLaunchKernel");
  get(d.cuMemAlloc, "cuMemAlloc_v2");
  get(d.cuMemFree, "cuMemFree_v2");
  get(d.cuMemAllocHost, "cuMemAllocHost_v2");
  get(d.cuMemFreeHost, "cuMemFreeHost");
  get(d.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  get(d.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  get(d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  get(d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  get(d.cuStreamCreate, "cuStreamCreate");
  get(d.cuStreamDestroy, "cuStreamDestroy_v2");
  get(d.cuStreamSynchronize, "cuStreamSynchronize");
  get(d.cuStreamWaitEvent, "cuStreamWaitEvent");
  get(d.cuStreamIsCapturing, "cuStreamIsCapturing");
  get(d.cuEventCreate, "cuEventCreate");
  get(d.cuEventRecord, "cuEventRecord");
  get(d.cuEventQuery, "cuEventQuery");
  get(d.cuEventSynchronize, "cuEventSynchronize");
  get(d.cuEventDestroy, "cuEventDestroy_v2");
  get(d.cuEventElapsedTime, "cuEventElapsedTime");
  get(d.cuGetErrorString, "cuGetErrorString");
  // Optional: a driver without it can still run the sm_80 kernels.
  d.cuTensorMapEncodeTiled =
      reinterpret_cast<decltype(d.cuTensorMapEncodeTiled)>(
          dlsym(d.handle, "cuTensorMapEncodeTiled"));
  if (!missing.empty()) {
    error = "libcuda.so.1 lacks " + missing;
    return false;
  }
  driver = d;
  return true;
}
