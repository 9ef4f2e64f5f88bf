//===- TestingApi.h - marking internal entry points for tests ---*- C++ -*-===//
//
// This file defines RINGRT_TESTING_API, which exports the few internal entry
// points of libringrt (built with hidden visibility) that ringrt-unittests
// calls directly.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_TESTINGAPI_H
#define RINGRT_LIB_TESTINGAPI_H

/// Marks the few internal entry points that ringrt-unittests calls directly.
/// They are not part of the C API and carry no stability promise.
#if defined(__GNUC__)
#define RINGRT_TESTING_API __attribute__((visibility("default")))
#else
#define RINGRT_TESTING_API
#endif

#endif // RINGRT_LIB_TESTINGAPI_H
