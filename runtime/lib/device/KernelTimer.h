//===- KernelTimer.h - CUDA-event timing of kernel launches -----*- C++ -*-===//
//
// Device "cuda" times its launches with CUDA events when asked to
// (ringrt_device_time_kernels): an event pair brackets each launch on the
// compute stream, and the summed elapsed times are the kernels' GPU time
// alone, without the host's launch overhead or the gaps between kernels.
// Off by default: an untimed launch records no events.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_DEVICE_KERNELTIMER_H
#define RINGRT_LIB_DEVICE_KERNELTIMER_H

#include "CudaDriver.h"
#include "ringrt/ringrt.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace ringrt {

class CudaStreams;

class KernelTimer {
public:
  explicit KernelTimer(CudaStreams &streams) : s(streams) {}
  ~KernelTimer();

  /// Starts (discarding what was timed so far) or stops timing.
  ringrt_status enable(bool on);
  bool enabled() const { return on; }
  /// Record the start and the stop event of one launch on `stream`
  /// (no-ops while timing is off).
  ringrt_status before(cuda::Stream stream);
  ringrt_status after(cuda::Stream stream);
  /// Waits for the timed launches and returns their summed time and count
  /// since timing started.
  ringrt_status total(double &ms, int64_t &launches);

private:
  /// Folds the completed pairs into `ms` (all of them when `wait`).
  ringrt_status fold(bool wait);
  void release();

  CudaStreams &s;
  bool on = false;
  double ms = 0;
  int64_t launches = 0;
  std::vector<std::pair<cuda::Event, cuda::Event>> pending;
};

} // namespace ringrt

#endif // RINGRT_LIB_DEVICE_KERNELTIMER_H
