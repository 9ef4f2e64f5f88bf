//===- FakeCudaDriver.h - a CUDA driver table that logs calls ---*- C++ -*-===//
//
// This file declares a fake of the CUDA driver API (a CudaDriver table of
// plain functions) for the unit tests that run the CUDA device backend and
// its stream/event ordering without a GPU. Every call that orders or moves
// work is appended to a log the test owns; handles print as s<N> (streams,
// in creation order), e<N> (events) and kernels by name.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_TEST_FAKECUDADRIVER_H
#define RINGRT_TEST_FAKECUDADRIVER_H

#include "device/CudaDriver.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ringrt {
namespace fake {

/// The state behind the fake driver (one test at a time).
struct FakeCuda {
  /// Where calls are logged (the test's log; NcclCommTest shares its own).
  std::vector<std::string> *log = nullptr;
  /// cuEventQuery answers CUDA_ERROR_NOT_READY forever.
  bool eventsNeverComplete = false;
  int streams = 0, events = 0;
  /// Calls of cuMemAlloc, cuMemFree, cuMemAllocHost and cuMemFreeHost so
  /// far (not logged, so that the ordering logs stay about ordering).
  int memAllocs = 0, memFrees = 0, memAllocHosts = 0, memFreeHosts = 0;
  unsigned long long nextDevicePtr = 0x10000;
  std::vector<std::string> kernels; // function handle i+1 -> name
  /// cuEventQuery calls so far (not logged: polling loops make many).
  int eventQueries = 0;

  /// Stream capture, as the CUDA programming guide describes it for the
  /// global capture mode: beginCapture(s) puts stream s<N> in capture;
  /// a stream that waits on an event recorded in the capture joins it; an
  /// event recorded on a capturing stream is a captured event. While a
  /// capture is active, cuMemAlloc/cuMemFree/cuMemAllocHost/cuMemFreeHost
  /// fail (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED), and so do synchronizing
  /// a capturing stream, querying or synchronizing a captured event
  /// (CUDA_ERROR_CAPTURED_EVENT) and a capturing stream's wait on an event
  /// recorded outside the capture (CUDA_ERROR_STREAM_CAPTURE_ISOLATION);
  /// each such failure is logged ("! ...") and invalidates the capture.
  /// endCapture fails (CUDA_ERROR_STREAM_CAPTURE_UNJOINED) if a stream that
  /// joined has work the origin did not wait for.
  void beginCapture(long stream);
  int endCapture(long stream);
  long captureOrigin = 0;
  bool captureInvalidated = false;
  std::set<long> capturing;
  /// Sequence numbers: each stream's last work (launch, copy, wait), the
  /// stream and time of each captured event's last record, and per stream
  /// the latest of its records the origin stream waited on.
  long seq = 0;
  std::map<long, long> lastWork;
  std::map<long, std::pair<long, long>> capturedRecord;
  std::map<long, long> joinedUpTo;
};

/// The fake in use; the driver's functions dereference it.
extern FakeCuda *fakeCuda;

/// A driver table of fakes over *fakeCuda.
CudaDriver fakeCudaDriver();

} // namespace fake
} // namespace ringrt

#endif // RINGRT_TEST_FAKECUDADRIVER_H
