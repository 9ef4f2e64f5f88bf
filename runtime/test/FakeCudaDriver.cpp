//===- FakeCudaDriver.cpp - a CUDA driver table that logs calls -*- C++ -*-===//
//
// This file implements the fake CUDA driver of FakeCudaDriver.h: one device,
// small integers for handles, host memory for page-locked allocations, no
// data movement for device copies, and a log line per launch, copy, event
// record/wait/synchronize and stream synchronize.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace ringrt;
using namespace ringrt::fake;

FakeCuda *ringrt::fake::fakeCuda = nullptr;

namespace {

void logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char *fmt, ...) {
  if (!fakeCuda || !fakeCuda->log)
    return;
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  fakeCuda->log->emplace_back(buf);
}

constexpr uintptr_t kEventBase = 0x1000;
long streamId(cuda::Stream s) { return static_cast<long>(uintptr_t(s)); }
long eventId(cuda::Event e) {
  return static_cast<long>(uintptr_t(e) - kEventBase);
}

constexpr cuda::Result kCaptureUnsupported = 900, kCaptureIsolation = 905,
                       kCapturedEvent = 907, kCaptureUnjoined = 904;

/// Fails `what` with `code` (logged with "!") and invalidates the capture.
cuda::Result captureError(cuda::Result code, const std::string &what) {
  logf("! %s during capture (%d)", what.c_str(), code);
  fakeCuda->captureInvalidated = true;
  return code;
}
bool inCapture() { return !fakeCuda->capturing.empty(); }
bool isCapturing(cuda::Stream s) {
  return fakeCuda->capturing.count(streamId(s)) != 0;
}
void work(cuda::Stream s) { fakeCuda->lastWork[streamId(s)] = ++fakeCuda->seq; }

cuda::Result init(unsigned) { return cuda::Success; }
cuda::Result deviceGetCount(int *n) {
  *n = 1;
  return cuda::Success;
}
cuda::Result deviceGet(cuda::Device *d, int i) {
  *d = i;
  return cuda::Success;
}
cuda::Result primaryCtxRetain(cuda::Context *c, cuda::Device) {
  *c = reinterpret_cast<cuda::Context>(uintptr_t(0x77));
  return cuda::Success;
}
cuda::Result primaryCtxRelease(cuda::Device) {
  logf("cuDevicePrimaryCtxRelease");
  return cuda::Success;
}
cuda::Result ctxSetCurrent(cuda::Context) { return cuda::Success; }
cuda::Result moduleLoadData(cuda::Module *m, const void *) {
  *m = reinterpret_cast<cuda::Module>(uintptr_t(0x200));
  return cuda::Success;
}
cuda::Result moduleUnload(cuda::Module) { return cuda::Success; }
cuda::Result moduleGetFunction(cuda::Function *f, cuda::Module,
                               const char *name) {
  fakeCuda->kernels.emplace_back(name);
  *f = reinterpret_cast<cuda::Function>(uintptr_t(fakeCuda->kernels.size()));
  return cuda::Success;
}
cuda::Result funcSetAttribute(cuda::Function, int, int) {
  return cuda::Success;
}
cuda::Result launchKernel(cuda::Function f, unsigned, unsigned, unsigned,
                          unsigned, unsigned, unsigned, unsigned,
                          cuda::Stream s, void **, void **) {
  logf("cuLaunchKernel %s s%ld",
       fakeCuda->kernels[uintptr_t(f) - 1].c_str(), streamId(s));
  work(s);
  return cuda::Success;
}
cuda::Result memAlloc(cuda::DevicePtr *p, size_t bytes) {
  if (inCapture())
    return captureError(kCaptureUnsupported, "cuMemAlloc");
  ++fakeCuda->memAllocs;
  *p = fakeCuda->nextDevicePtr;
  fakeCuda->nextDevicePtr += (bytes + 0xffff) & ~size_t(0xffff);
  return cuda::Success;
}
cuda::Result memFree(cuda::DevicePtr) {
  if (inCapture())
    return captureError(kCaptureUnsupported, "cuMemFree");
  ++fakeCuda->memFrees;
  return cuda::Success;
}
cuda::Result memAllocHost(void **p, size_t bytes) {
  if (inCapture())
    return captureError(kCaptureUnsupported, "cuMemAllocHost");
  logf("cuMemAllocHost %zu", bytes);
  ++fakeCuda->memAllocHosts;
  *p = std::malloc(bytes);
  return cuda::Success;
}
cuda::Result memFreeHost(void *p) {
  if (inCapture())
    return captureError(kCaptureUnsupported, "cuMemFreeHost");
  ++fakeCuda->memFreeHosts;
  std::free(p);
  return cuda::Success;
}
cuda::Result memcpyHtoD(cuda::DevicePtr, const void *, size_t) {
  logf("cuMemcpyHtoD");
  return cuda::Success;
}
cuda::Result memcpyDtoH(void *, cuda::DevicePtr, size_t) {
  logf("cuMemcpyDtoH");
  return cuda::Success;
}
cuda::Result memcpyHtoDAsync(cuda::DevicePtr, const void *, size_t bytes,
                             cuda::Stream s) {
  logf("cuMemcpyHtoDAsync %zu s%ld", bytes, streamId(s));
  work(s);
  return cuda::Success;
}
cuda::Result memcpyDtoHAsync(void *, cuda::DevicePtr, size_t bytes,
                             cuda::Stream s) {
  logf("cuMemcpyDtoHAsync %zu s%ld", bytes, streamId(s));
  work(s);
  return cuda::Success;
}
cuda::Result streamCreate(cuda::Stream *s, unsigned flags) {
  *s = reinterpret_cast<cuda::Stream>(uintptr_t(++fakeCuda->streams));
  logf("cuStreamCreate s%d flags=%u", fakeCuda->streams, flags);
  return cuda::Success;
}
cuda::Result streamDestroy(cuda::Stream s) {
  logf("cuStreamDestroy s%ld", streamId(s));
  return cuda::Success;
}
cuda::Result streamSynchronize(cuda::Stream s) {
  if (isCapturing(s))
    return captureError(kCaptureUnsupported,
                        "cuStreamSynchronize s" + std::to_string(streamId(s)));
  logf("cuStreamSynchronize s%ld", streamId(s));
  return cuda::Success;
}
cuda::Result streamWaitEvent(cuda::Stream s, cuda::Event e, unsigned) {
  auto rec = fakeCuda->capturedRecord.find(eventId(e));
  bool capturedEvent = rec != fakeCuda->capturedRecord.end();
  if (isCapturing(s) && !capturedEvent)
    return captureError(kCaptureIsolation,
                        "cuStreamWaitEvent s" + std::to_string(streamId(s)) +
                            " on e" + std::to_string(eventId(e)) +
                            " recorded outside the capture");
  logf("cuStreamWaitEvent s%ld e%ld", streamId(s), eventId(e));
  if (capturedEvent) {
    fakeCuda->capturing.insert(streamId(s)); // joins (or stays in) it
    if (streamId(s) == fakeCuda->captureOrigin) {
      long &upTo = fakeCuda->joinedUpTo[rec->second.first];
      upTo = std::max(upTo, rec->second.second);
    }
  }
  work(s);
  return cuda::Success;
}
cuda::Result streamIsCapturing(cuda::Stream s, int *status) {
  *status = !isCapturing(s)                   ? cuda::CaptureStatusNone
            : fakeCuda->captureInvalidated ? cuda::CaptureStatusInvalidated
                                           : cuda::CaptureStatusActive;
  return cuda::Success;
}
cuda::Result eventCreate(cuda::Event *e, unsigned flags) {
  *e = reinterpret_cast<cuda::Event>(kEventBase + ++fakeCuda->events);
  logf("cuEventCreate e%d flags=%u", fakeCuda->events, flags);
  return cuda::Success;
}
cuda::Result eventRecord(cuda::Event e, cuda::Stream s) {
  logf("cuEventRecord e%ld s%ld", eventId(e), streamId(s));
  if (isCapturing(s))
    fakeCuda->capturedRecord[eventId(e)] = {streamId(s), ++fakeCuda->seq};
  else
    fakeCuda->capturedRecord.erase(eventId(e));
  return cuda::Success;
}
cuda::Result eventQuery(cuda::Event e) {
  ++fakeCuda->eventQueries;
  if (fakeCuda->capturedRecord.count(eventId(e)))
    return captureError(kCapturedEvent,
                        "cuEventQuery e" + std::to_string(eventId(e)));
  return fakeCuda->eventsNeverComplete ? cuda::NotReady : cuda::Success;
}
cuda::Result eventSynchronize(cuda::Event e) {
  if (fakeCuda->capturedRecord.count(eventId(e)))
    return captureError(kCapturedEvent,
                        "cuEventSynchronize e" + std::to_string(eventId(e)));
  logf("cuEventSynchronize e%ld", eventId(e));
  return cuda::Success;
}
cuda::Result eventDestroy(cuda::Event) { return cuda::Success; }
/// Every timed launch takes 1.25 ms.
cuda::Result eventElapsedTime(float *ms, cuda::Event a, cuda::Event b) {
  if (fakeCuda->capturedRecord.count(eventId(a)) ||
      fakeCuda->capturedRecord.count(eventId(b)))
    return captureError(kCapturedEvent, "cuEventElapsedTime");
  logf("cuEventElapsedTime e%ld e%ld", eventId(a), eventId(b));
  *ms = 1.25f;
  return cuda::Success;
}
cuda::Result getErrorString(cuda::Result, const char **s) {
  *s = "fake CUDA error";
  return cuda::Success;
}

} // namespace

void FakeCuda::beginCapture(long stream) {
  logf("cuStreamBeginCapture s%ld", stream);
  captureOrigin = stream;
  captureInvalidated = false;
  capturing = {stream};
  capturedRecord.clear();
  joinedUpTo.clear();
}

int FakeCuda::endCapture(long stream) {
  logf("cuStreamEndCapture s%ld", stream);
  int result = captureInvalidated ? 901 /* CAPTURE_INVALIDATED */ : 0;
  for (long s : capturing)
    if (s != stream && joinedUpTo[s] < lastWork[s]) {
      logf("! s%ld was not joined back into the capture (%d)", s,
           kCaptureUnjoined);
      result = result ? result : kCaptureUnjoined;
    }
  capturing.clear();
  capturedRecord.clear();
  captureOrigin = 0;
  return result;
}

CudaDriver ringrt::fake::fakeCudaDriver() {
  CudaDriver d;
  d.cuInit = init;
  d.cuDeviceGetCount = deviceGetCount;
  d.cuDeviceGet = deviceGet;
  d.cuDevicePrimaryCtxRetain = primaryCtxRetain;
  d.cuDevicePrimaryCtxRelease = primaryCtxRelease;
  d.cuCtxSetCurrent = ctxSetCurrent;
  d.cuModuleLoadData = moduleLoadData;
  d.cuModuleUnload = moduleUnload;
  d.cuModuleGetFunction = moduleGetFunction;
  d.cuFuncSetAttribute = funcSetAttribute;
  d.cuLaunchKernel = launchKernel;
  d.cuMemAlloc = memAlloc;
  d.cuMemFree = memFree;
  d.cuMemAllocHost = memAllocHost;
  d.cuMemFreeHost = memFreeHost;
  d.cuMemcpyHtoD = memcpyHtoD;
  d.cuMemcpyDtoH = memcpyDtoH;
  d.cuMemcpyHtoDAsync = memcpyHtoDAsync;
  d.cuMemcpyDtoHAsync = memcpyDtoHAsync;
  d.cuStreamCreate = streamCreate;
  d.cuStreamDestroy = streamDestroy;
  d.cuStreamSynchronize = streamSynchronize;
  d.cuStreamWaitEvent = streamWaitEvent;
  d.cuStreamIsCapturing = streamIsCapturing;
  d.cuEventCreate = eventCreate;
  d.cuEventRecord = eventRecord;
  d.cuEventQuery = eventQuery;
  d.cuEventSynchronize = eventSynchronize;
  d.cuEventDestroy = eventDestroy;
  d.cuEventElapsedTime = eventElapsedTime;
  d.cuGetErrorString = getErrorString;
  return d;
}
