//===- Error.h - thread-local error reporting -------------------*- C++ -*-===//
//
// This file declares the helpers that every ringrt entry point uses to
// record the calling thread's last error message and return a status.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_ERROR_H
#define RINGRT_LIB_ERROR_H

#include "ringrt/ringrt.h"

#include <string>

namespace ringrt {

/// Records `message` as this thread's last error and returns `status`.
ringrt_status setError(ringrt_status status, std::string message);

/// printf-style variant of setError.
ringrt_status setErrorf(ringrt_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/// printf into a std::string.
std::string formatv(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/// Returns this thread's last error message.
const std::string &lastError();

/// Formats `n` values as "[a,b,c]".
std::string formatShape(const int64_t *values, int n);

} // namespace ringrt

#endif // RINGRT_LIB_ERROR_H
