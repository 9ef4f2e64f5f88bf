//===- LocalTensor.h - one rank's tensor, on the host or device -*- C++ -*-===//
//
// This file defines LocalTensor: a rank's typed host bytes, the
// ringrt_tensor over them and, for GPU artifacts, a device copy the tensor
// points at instead. The grad and layer checks share it.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_LOCALTENSOR_H
#define RINGRUN_LOCALTENSOR_H

#include "HostData.h"
#include "ringrt/ringrt.h"

#include <limits>
#include <vector>

namespace ringrun {

/// One local tensor: its typed bytes and the ringrt_tensor over them (or,
/// for GPU artifacts, over a device copy of them).
struct LocalTensor {
  std::vector<unsigned char> bytes;
  ringrt_tensor t{};
  int64_t count = 0;
  int32_t dtype = RINGRT_F32;
  ringrt_context *deviceCtx = nullptr;
  void *dev = nullptr;

  LocalTensor() = default;
  LocalTensor(const LocalTensor &) = delete;
  LocalTensor &operator=(const LocalTensor &) = delete;
  ~LocalTensor() {
    if (dev)
      ringrt_device_free(deviceCtx, dev);
  }
  /// Allocates the device copy, copies the bytes in and points t at it.
  int32_t toDevice(ringrt_context *ctx) {
    deviceCtx = ctx;
    int64_t n = static_cast<int64_t>(bytes.size());
    int32_t st = ringrt_device_alloc(ctx, n, &dev);
    if (st == RINGRT_OK)
      st = ringrt_memcpy_to_device(ctx, dev, bytes.data(), n);
    if (st == RINGRT_OK)
      t.data = dev;
    return st;
  }
  /// Copies the device copy back into the bytes (no-op on host).
  int32_t fromDevice() {
    if (!dev)
      return RINGRT_OK;
    return ringrt_memcpy_to_host(deviceCtx, bytes.data(), dev,
                                 static_cast<int64_t>(bytes.size()));
  }

  void init(int32_t dt, int rank, const int64_t *shape) {
    dtype = dt;
    count = 1;
    for (int i = 0; i < rank; ++i)
      count *= shape[i];
    bytes.assign(static_cast<size_t>(count * ringrt_dtype_size(dt)), 0);
    ringrt_tensor_init(&t, bytes.data(), dt, rank, shape);
  }
  /// Fills the bytes with ring-run's poison (storePoison).
  void poison() {
    for (int64_t i = 0; i < count; ++i)
      storePoison(bytes.data(), dtype, i);
  }
  std::vector<float> asFloat() const {
    std::vector<float> out(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      out[static_cast<size_t>(i)] = loadElement(bytes.data(), dtype, i);
    return out;
  }
};

} // namespace ringrun

#endif // RINGRUN_LOCALTENSOR_H
