//===- Npy.cpp - .npy writer ------------------------------------*- C++ -*-===//
//
// This file implements the .npy v1.0 writer: the header dictionary is padded
// with spaces and a newline so that the data starts at a multiple of 64
// bytes, as NumPy writes it. Data are stored little-endian.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cstdio>
#include <cstring>

using namespace ringrun;

std::string ringrun::npyHeaderF32(const std::vector<int64_t> &shape) {
  return npyHeader(shape, "<f4");
}

std::string ringrun::npyHeader(const std::vector<int64_t> &shape,
                               const std::string &descr) {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size()
                                            ? ","
                                            : "") +
            (i + 1 < shape.size() ? " " : "");
  dict += "), }";
  size_t unpadded = 10 + dict.size() + 1; // magic+version+len, dict, '\n'
  size_t padded = (unpadded + 63) / 64 * 64;
  dict.append(padded - unpadded, ' ');
  dict += '\n';
  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  uint16_t len = static_cast<uint16_t>(dict.size());
  header += static_cast<char>(len & 0xff);
  header += static_cast<char>(len >> 8);
  return header + dict;
}

/// Writes `n` elements of `elementBytes` bytes each, read from `data` as
/// host-order integers of that width, little-endian after `header`.
/// (x86-64 and aarch64 Linux are little-endian; the loop converts otherwise.)
static bool writeNpy(const std::string &path, const std::string &header,
                     const void *data, int64_t n, int elementBytes,
                     std::string &error) {
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = path + ": cannot open for writing";
    return false;
  }
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size();
  std::vector<unsigned char> bytes(static_cast<size_t>(n) * elementBytes);
  const auto *in = static_cast<const unsigned char *>(data);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t u = 0;
    if (elementBytes == 4) {
      uint32_t w;
      std::memcpy(&w, in + i * 4, 4);
      u = w;
    } else {
      std::memcpy(&u, in + i * 8, 8);
    }
    for (int b = 0; b < elementBytes; ++b)
      bytes[static_cast<size_t>(i) * elementBytes + b] =
          static_cast<unsigned char>(u >> (8 * b));
  }
  ok = ok && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok)
    error = path + ": write failed";
  return ok;
}

static int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool ringrun::writeNpyF32(const std::string &path, const float *data,
                          const std::vector<int64_t> &shape,
                          std::string &error) {
  return writeNpy(path, npyHeaderF32(shape), data, elementCount(shape), 4,
                  error);
}

bool ringrun::writeNpyI64(const std::string &path, const int64_t *data,
                          const std::vector<int64_t> &shape,
                          std::string &error) {
  return writeNpy(path, npyHeader(shape, "<i8"), data, elementCount(shape), 8,
                  error);
}
