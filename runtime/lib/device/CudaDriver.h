//===- CudaDriver.h - the slice of the CUDA driver API ringrt uses -*- C++ -*-===//
//
// This file declares, by hand, the few CUDA driver types and constants that
// the CUDA device backend uses (as cuda.h defines them, so that ringrt builds
// without the CUDA toolkit), the table of driver entry points that the
// loader fills from libcuda.so.1 with dlsym, and the loader itself. Tests
// fill the table with fakes, so the stream and event bookkeeping
// (CudaStreams.h) and the device backend run without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_DEVICE_CUDADRIVER_H
#define RINGRT_LIB_DEVICE_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace ringrt {
namespace cuda {

using Result = int;
using Device = int;
using DevicePtr = unsigned long long;
struct OpaqueContext;
struct OpaqueModule;
struct OpaqueFunction;
struct OpaqueStream;
struct OpaqueEvent;
using Context = OpaqueContext *;
using Module = OpaqueModule *;
using Function = OpaqueFunction *;
using Stream = OpaqueStream *;
using Event = OpaqueEvent *;

constexpr Result Success = 0;      // CUDA_SUCCESS
constexpr Result NotReady = 600;   // CUDA_ERROR_NOT_READY
constexpr int FuncAttributeMaxDynamicSharedSizeBytes = 8;
constexpr unsigned StreamNonBlocking = 1; // CU_STREAM_NON_BLOCKING
constexpr unsigned EventDisableTiming = 2; // CU_EVENT_DISABLE_TIMING
// CUstreamCaptureStatus.
constexpr int CaptureStatusNone = 0;
constexpr int CaptureStatusActive = 1;
constexpr int CaptureStatusInvalidated = 2;
// The stream-capture errors (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED ..
// CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD; 907 is CUDA_ERROR_CAPTURED_EVENT).
constexpr Result StreamCaptureUnsupported = 900;
constexpr Result StreamCaptureLast = 908;

} // namespace cuda

/// The driver entry points ringrt calls. Each mirrors the cuda.h function
/// of the same name (the versioned symbol the loader resolves is noted where
/// cuda.h maps the name to one).
struct CudaDriver {
  /// The dlopen handle (null for a fake). Never closed: the driver keeps
  /// process-wide state.
  void *handle = nullptr;
  cuda::Result (*cuInit)(unsigned) = nullptr;
  cuda::Result (*cuDeviceGetCount)(int *) = nullptr;
  cuda::Result (*cuDeviceGet)(cuda::Device *, int) = nullptr;
  cuda::Result (*cuDevicePrimaryCtxRetain)(cuda::Context *,
                                           cuda::Device) = nullptr;
  /// cuDevicePrimaryCtxRelease_v2.
  cuda::Result (*cuDevicePrimaryCtxRelease)(cuda::Device) = nullptr;
  cuda::Result (*cuCtxSetCurrent)(cuda::Context) = nullptr;
  cuda::Result (*cuModuleLoadData)(cuda::Module *, const void *) = nullptr;
  cuda::Result (*cuModuleUnload)(cuda::Module) = nullptr;
  cuda::Result (*cuModuleGetFunction)(cuda::Function *, cuda::Module,
                                      const char *) = nullptr;
  cuda::Result (*cuFuncSetAttribute)(cuda::Function, int, int) = nullptr;
  cuda::Result (*cuLaunchKernel)(cuda::Function, unsigned, unsigned, unsigned,
                                 unsigned, unsigned, unsigned, unsigned,
                                 cuda::Stream, void **, void **) = nullptr;
  /// cuMemAlloc_v2, cuMemFree_v2.
  cuda::Result (*cuMemAlloc)(cuda::DevicePtr *, size_t) = nullptr;
  cuda::Result (*cuMemFree)(cuda::DevicePtr) = nullptr;
  /// cuMemAllocHost_v2 (page-locked host memory for staging), cuMemFreeHost.
  cuda::Result (*cuMemAllocHost)(void **, size_t) = nullptr;
  cuda::Result (*cuMemFreeHost)(void *) = nullptr;
  /// cuMemcpyHtoD_v2, cuMemcpyDtoH_v2 and their _Async_v2 variants.
  cuda::Result (*cuMemcpyHtoD)(cuda::DevicePtr, const void *, size_t) = nullptr;
  cuda::Result (*cuMemcpyDtoH)(void *, cuda::DevicePtr, size_t) = nullptr;
  cuda::Result (*cuMemcpyHtoDAsync)(cuda::DevicePtr, const void *, size_t,
                                    cuda::Stream) = nullptr;
  cuda::Result (*cuMemcpyDtoHAsync)(void *, cuda::DevicePtr, size_t,
                                    cuda::Stream) = nullptr;
  cuda::Result (*cuStreamCreate)(cuda::Stream *, unsigned) = nullptr;
  /// cuStreamDestroy_v2.
  cuda::Result (*cuStreamDestroy)(cuda::Stream) = nullptr;
  cuda::Result (*cuStreamSynchronize)(cuda::Stream) = nullptr;
  cuda::Result (*cuStreamWaitEvent)(cuda::Stream, cuda::Event,
                                    unsigned) = nullptr;
  /// The stream's CUstreamCaptureStatus (cuda::CaptureStatus*).
  cuda::Result (*cuStreamIsCapturing)(cuda::Stream, int *) = nullptr;
  cuda::Result (*cuEventCreate)(cuda::Event *, unsigned) = nullptr;
  cuda::Result (*cuEventRecord)(cuda::Event, cuda::Stream) = nullptr;
  cuda::Result (*cuEventQuery)(cuda::Event) = nullptr;
  cuda::Result (*cuEventSynchronize)(cuda::Event) = nullptr;
  /// cuEventDestroy_v2.
  cuda::Result (*cuEventDestroy)(cuda::Event) = nullptr;
  /// Milliseconds between two completed events created with timing.
  cuda::Result (*cuEventElapsedTime)(float *, cuda::Event,
                                     cuda::Event) = nullptr;
  cuda::Result (*cuGetErrorString)(cuda::Result, const char **) = nullptr;
  /// cuTensorMapEncodeTiled (CUDA 12+ drivers; optional: null on an older
  /// driver, where only the sm_90a kernels that need it fail).
  cuda::Result (*cuTensorMapEncodeTiled)(
      void *, unsigned, unsigned, void *, const uint64_t *, const uint64_t *,
      const uint32_t *, const uint32_t *, unsigned, unsigned, unsigned,
      unsigned) = nullptr;
};

/// Opens libcuda.so.1 and resolves every entry point of CudaDriver. On
/// failure returns false and sets `error` to the dlerror() text or to
/// "libcuda.so.1 lacks <symbols>".
bool loadCudaDriver(CudaDriver &driver, std::string &error);

} // namespace ringrt

#endif // RINGRT_LIB_DEVICE_CUDADRIVER_H
