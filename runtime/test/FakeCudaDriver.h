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
};

/// The fake in use; the driver's functions dereference it.
extern FakeCuda *fakeCuda;

/// A driver table of fakes over *fakeCuda.
CudaDriver fakeCudaDriver();

} // namespace fake
} // namespace ringrt

#endif // RINGRT_TEST_FAKECUDADRIVER_H
