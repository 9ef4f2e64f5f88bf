//===- HostData.cpp - inputs and dtype buffers ------------------*- C++ -*-===//
//
// This file implements the seeded input generator and the typed element
// access of ring-run's host buffers.
//
//===----------------------------------------------------------------------===//

#include "HostData.h"
#include "ringrt/DType.h"

#include <cstdio>
#include <cstring>

using namespace ringrun;

uint64_t ringrun::splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float ringrun::roundToDType(float x, int32_t dtype) {
  switch (dtype) {
  case RINGRT_BF16:
    return ringrt::bf16ToFloat(ringrt::floatToBF16(x));
  case RINGRT_F16:
    return ringrt::f16ToFloat(ringrt::floatToF16(x));
  default:
    return x;
  }
}

float ringrun::loadElement(const void *data, int32_t dtype, int64_t i) {
  switch (dtype) {
  case RINGRT_BF16:
    return ringrt::bf16ToFloat(static_cast<const uint16_t *>(data)[i]);
  case RINGRT_F16:
    return ringrt::f16ToFloat(static_cast<const uint16_t *>(data)[i]);
  default:
    return static_cast<const float *>(data)[i];
  }
}

void ringrun::storeElement(void *data, int32_t dtype, int64_t i, float x) {
  switch (dtype) {
  case RINGRT_BF16:
    static_cast<uint16_t *>(data)[i] = ringrt::floatToBF16(x);
    break;
  case RINGRT_F16:
    static_cast<uint16_t *>(data)[i] = ringrt::floatToF16(x);
    break;
  default:
    static_cast<float *>(data)[i] = x;
  }
}

void ringrun::storePoison(void *data, int32_t dtype, int64_t i) {
  switch (dtype) {
  case RINGRT_BF16:
    static_cast<uint16_t *>(data)[i] = 0x7fe5;
    break;
  case RINGRT_F16:
    static_cast<uint16_t *>(data)[i] = 0x7e5a;
    break;
  default: {
    const uint32_t bits = 0x7fe5a5a5u;
    std::memcpy(static_cast<float *>(data) + i, &bits, 4);
  }
  }
}

bool ringrun::sameBits(float a, float b) {
  return std::memcmp(&a, &b, sizeof(float)) == 0;
}

bool ringrun::isPoison(float got, int32_t dtype) {
  uint32_t poison = 0; // room for one element of any dtype
  storePoison(&poison, dtype, 0);
  return sameBits(got, loadElement(&poison, dtype, 0));
}

std::string ringrun::describeFloat(float x) {
  if (!std::isnan(x))
    return std::to_string(x);
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "nan (0x%08x)", bits);
  return buf;
}

std::string ringrun::a2aPaddingFailure(const char *what, int rank, float got,
                                       int32_t dtype) {
  if (isPoison(got, dtype))
    return "";
  return std::string(what) + " of rank " + std::to_string(rank) + " is " +
         describeFloat(got) +
         " in an a2a padding row (past the rank's share), which must never "
         "be written (it must keep the poison bit for bit)";
}

float ringrun::inputElement(uint64_t seed, int which, int64_t e,
                            int32_t dtype, double scale) {
  // splitmix64 adds its constant once per output, so the state before the
  // e-th output is the seed plus e + 1 constants.
  uint64_t state =
      (seed ^ (static_cast<uint64_t>(which + 1) * 0xD1B54A32D192ED03ull)) +
      static_cast<uint64_t>(e) * 0x9E3779B97F4A7C15ull;
  uint64_t x = splitmix64(state);
  float u = static_cast<float>(x >> 40) * (1.0f / 8388608.0f) - 1.0f;
  if (scale != 1.0)
    u = static_cast<float>(static_cast<double>(u) * scale);
  return roundToDType(u, dtype);
}

std::vector<float> ringrun::generateInput(uint64_t seed, int which,
                                          const std::vector<int64_t> &shape,
                                          int32_t dtype, double scale) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t e = 0; e < n; ++e)
    out[static_cast<size_t>(e)] = inputElement(seed, which, e, dtype, scale);
  return out;
}
