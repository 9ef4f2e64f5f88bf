//===- CpuDevice.cpp - the host-memory device backend -----------*- C++ -*-===//
//
// This file implements device "cpu": device memory is plain host memory
// (malloc/memcpy) and there are no kernels, so module loading and launches
// report RINGRT_ERR_UNSUPPORTED (CPU artifacts never call them).
//
//===----------------------------------------------------------------------===//

#include "DeviceBackend.h"
#include "../Error.h"

#include <cstdlib>
#include <cstring>

using namespace ringrt;

namespace {
class CpuDevice final : public DeviceBackend {
public:
  const char *name() const override { return "cpu"; }
  bool hostAddressable() const override { return true; }

  ringrt_status loadModule(const char *, void **module) override {
    *module = nullptr;
    return setError(RINGRT_ERR_UNSUPPORTED,
                    "device 'cpu' runs no GPU kernels (this is a GPU "
                    "artifact: use --device=emu or --device=cuda)");
  }
  ringrt_status launch(void *, const char *kernel, LaunchDims, LaunchDims,
                       unsigned, void **) override {
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "device 'cpu' cannot launch GPU kernel '%s'", kernel);
  }
  ringrt_status alloc(int64_t bytes, void **out) override {
    *out = std::aligned_alloc(256, (static_cast<size_t>(bytes) + 255) & ~size_t(255));
    if (!*out)
      return setErrorf(RINGRT_ERR_OUT_OF_MEMORY,
                       "device 'cpu': cannot allocate %lld bytes",
                       static_cast<long long>(bytes));
    return RINGRT_OK;
  }
  ringrt_status free(void *ptr) override {
    std::free(ptr);
    return RINGRT_OK;
  }
  ringrt_status copyToDevice(void *dst, const void *src,
                             int64_t bytes) override {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
    return RINGRT_OK;
  }
  ringrt_status copyToHost(void *dst, const void *src,
                           int64_t bytes) override {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
    return RINGRT_OK;
  }
  ringrt_status synchronize() override { return RINGRT_OK; }
};
} // namespace

std::unique_ptr<DeviceBackend> ringrt::createCpuDevice() {
  return std::make_unique<CpuDevice>();
}
