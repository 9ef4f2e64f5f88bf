//===- Device.cpp - device backend selection --------------------*- C++ -*-===//
//
// This file implements the choice of a context's device backend from its
// device name: "cpu" (host memory), "emu" (the PTX emulator) and "cuda"
// (the driver via dlopen of libcuda.so.1, so ringrt never links it). The
// backends live in device/.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"

#include <cstring>

ringrt_status ringrt::createDeviceBackend(const char *device,
                                          std::unique_ptr<DeviceBackend> &out) {
  if (std::strcmp(device, "cpu") == 0) {
    out = createCpuDevice();
    return RINGRT_OK;
  }
  if (std::strcmp(device, "emu") == 0) {
    out = createEmuDevice();
    return RINGRT_OK;
  }
  if (std::strcmp(device, "cuda") == 0)
    return createCudaDevice(out);
  return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "unknown device '%s' (expected cpu, emu or cuda)", device);
}
