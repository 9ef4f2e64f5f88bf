//===- KernelTimer.cpp - CUDA-event timing of kernel launches ---*- C++ -*-===//
//
// This file implements KernelTimer: timing events (created without
// CU_EVENT_DISABLE_TIMING, unlike the ordering events of CudaStreams),
// folded with cuEventElapsedTime when the total is asked for, or when many
// are pending so that a long timed run does not hold events without bound.
//
//===----------------------------------------------------------------------===//

#include "KernelTimer.h"
#include "../Error.h"
#include "CudaStreams.h"

using namespace ringrt;

namespace {
/// Pending launches above which `before` folds the completed ones.
constexpr size_t kFoldAt = 1024;
} // namespace

KernelTimer::~KernelTimer() { release(); }

void KernelTimer::release() {
  for (auto &[start, stop] : pending) {
    s.driver().cuEventDestroy(start);
    s.driver().cuEventDestroy(stop);
  }
  pending.clear();
}

ringrt_status KernelTimer::enable(bool enable) {
  if (enable && !s.driver().cuEventElapsedTime)
    return setError(RINGRT_ERR_UNSUPPORTED,
                    "device 'cuda': the driver has no cuEventElapsedTime");
  release();
  on = enable;
  ms = 0;
  launches = 0;
  return RINGRT_OK;
}

ringrt_status KernelTimer::before(cuda::Stream stream) {
  if (!on)
    return RINGRT_OK;
  if (pending.size() >= kFoldAt)
    if (ringrt_status st = fold(/*wait=*/false))
      return st;
  cuda::Event start = nullptr, stop = nullptr;
  const CudaDriver &d = s.driver();
  if (ringrt_status st = s.check(d.cuEventCreate(&start, 0), "cuEventCreate"))
    return st;
  if (ringrt_status st = s.check(d.cuEventCreate(&stop, 0), "cuEventCreate")) {
    d.cuEventDestroy(start);
    return st;
  }
  pending.emplace_back(start, stop);
  return s.check(d.cuEventRecord(start, stream), "cuEventRecord");
}

ringrt_status KernelTimer::after(cuda::Stream stream) {
  if (!on || pending.empty())
    return RINGRT_OK;
  return s.check(s.driver().cuEventRecord(pending.back().second, stream),
                 "cuEventRecord");
}

ringrt_status KernelTimer::fold(bool wait) {
  const CudaDriver &d = s.driver();
  size_t done = 0;
  for (auto &[start, stop] : pending) {
    if (wait) {
      if (ringrt_status st =
              s.check(d.cuEventSynchronize(stop), "cuEventSynchronize"))
        return st;
    } else if (d.cuEventQuery(stop) != cuda::Success) {
      break; // launches complete in stream order
    }
    float one = 0;
    if (ringrt_status st = s.check(d.cuEventElapsedTime(&one, start, stop),
                                   "cuEventElapsedTime"))
      return st;
    ms += one;
    ++launches;
    d.cuEventDestroy(start);
    d.cuEventDestroy(stop);
    ++done;
  }
  pending.erase(pending.begin(), pending.begin() + static_cast<long>(done));
  return RINGRT_OK;
}

ringrt_status KernelTimer::total(double &outMs, int64_t &outLaunches) {
  outMs = 0;
  outLaunches = 0;
  if (ringrt_status st = fold(/*wait=*/true))
    return st;
  outMs = ms;
  outLaunches = launches;
  return RINGRT_OK;
}
