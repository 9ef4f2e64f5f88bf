//===- Error.cpp - thread-local error reporting -----------------*- C++ -*-===//
//
// This file implements the status names and the thread-local last-error
// message of the ringrt C API. Nothing here is shared between threads.
//
//===----------------------------------------------------------------------===//

#include "Error.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local std::string tlsLastError;

std::string vformat(const char *fmt, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n < 0)
    return fmt;
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(&out[0], out.size(), fmt, args);
  out.resize(static_cast<size_t>(n));
  return out;
}
} // namespace

namespace ringrt {

ringrt_status setError(ringrt_status status, std::string message) {
  tlsLastError = std::move(message);
  return status;
}

ringrt_status setErrorf(ringrt_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  tlsLastError = vformat(fmt, args);
  va_end(args);
  return status;
}

std::string formatv(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::string s = vformat(fmt, args);
  va_end(args);
  return s;
}

const std::string &lastError() { return tlsLastError; }

std::string formatShape(const int64_t *values, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) {
    if (i)
      s += ",";
    s += std::to_string(values[i]);
  }
  return s + "]";
}

} // namespace ringrt

extern "C" {

const char *ringrt_status_string(ringrt_status status) {
  switch (status) {
  case RINGRT_OK:
    return "RINGRT_OK";
  case RINGRT_ERR_INVALID_ARGUMENT:
    return "RINGRT_ERR_INVALID_ARGUMENT";
  case RINGRT_ERR_COMM:
    return "RINGRT_ERR_COMM";
  case RINGRT_ERR_TIMEOUT:
    return "RINGRT_ERR_TIMEOUT";
  case RINGRT_ERR_PLAN_MISMATCH:
    return "RINGRT_ERR_PLAN_MISMATCH";
  case RINGRT_ERR_NO_CUDA_DRIVER:
    return "RINGRT_ERR_NO_CUDA_DRIVER";
  case RINGRT_ERR_DEVICE:
    return "RINGRT_ERR_DEVICE";
  case RINGRT_ERR_UNSUPPORTED:
    return "RINGRT_ERR_UNSUPPORTED";
  case RINGRT_ERR_OUT_OF_MEMORY:
    return "RINGRT_ERR_OUT_OF_MEMORY";
  case RINGRT_ERR_INTERNAL:
    return "RINGRT_ERR_INTERNAL";
  case RINGRT_ERR_NO_NCCL:
    return "RINGRT_ERR_NO_NCCL";
  }
  return "RINGRT_ERR_UNKNOWN_STATUS";
}

const char *ringrt_last_error(void) { return tlsLastError.c_str(); }

void ringrt_clear_error(void) { tlsLastError.clear(); }

} // extern "C"
