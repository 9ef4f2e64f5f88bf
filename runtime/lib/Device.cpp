//===- Device.cpp - device backend selection --------------------*- C++ -*-===//
//
// This file implements the check of a context's device name. Only "cpu" is
// usable today; "cuda" probes for the driver (libcuda.so.1 via dlopen, so
// ringrt never links it) and "emu" names the PTX emulator backend, both of
// which report a clear error until their backends are wired in here.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"

#include <cstring>
#include <dlfcn.h>

ringrt_status ringrt::checkDevice(const char *device) {
  if (std::strcmp(device, "cpu") == 0)
    return RINGRT_OK;
  if (std::strcmp(device, "emu") == 0)
    return setError(RINGRT_ERR_UNSUPPORTED,
                    "device 'emu': the emulator device backend is not "
                    "available in this ringrt yet");
  if (std::strcmp(device, "cuda") == 0) {
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver) {
      const char *why = dlerror();
      return setErrorf(RINGRT_ERR_NO_CUDA_DRIVER,
                       "device 'cuda': no CUDA driver (dlopen libcuda.so.1: "
                       "%s)",
                       why ? why : "unknown error");
    }
    dlclose(driver);
    return setError(RINGRT_ERR_UNSUPPORTED,
                    "device 'cuda': the CUDA device backend is not "
                    "implemented in this ringrt yet");
  }
  return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "unknown device '%s' (expected cpu, emu or cuda)", device);
}
