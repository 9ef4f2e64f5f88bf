//===- Npy.h - .npy writer --------------------------------------*- C++ -*-===//
//
// This file declares the writer of little-endian float32 (and int64) NumPy .npy (format
// version 1.0) files that `ring-run --dump` produces.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_NPY_H
#define RINGRUN_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace ringrun {

/// The complete .npy v1.0 header (magic, version, length, padded dict) for a
/// C-ordered little-endian float32 array of `shape`.
std::string npyHeaderF32(const std::vector<int64_t> &shape);

/// The header of an array of `shape` with NumPy type `descr` ("<i8").
std::string npyHeader(const std::vector<int64_t> &shape,
                      const std::string &descr);

/// Writes `data` (product(shape) int64, little-endian) to `path`.
bool writeNpyI64(const std::string &path, const int64_t *data,
                 const std::vector<int64_t> &shape, std::string &error);

/// Writes `data` (product(shape) floats) to `path`; false + `error` on I/O
/// failure.
bool writeNpyF32(const std::string &path, const float *data,
                 const std::vector<int64_t> &shape, std::string &error);

} // namespace ringrun

#endif // RINGRUN_NPY_H
