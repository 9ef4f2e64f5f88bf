//===- DType.h - bf16/f16 conversions ---------------------------*- C++ -*-===//
//
// This file defines, header-only, the exact conversions between float and
// the 16-bit storage types of ringrt tensors: float -> bf16/f16 round to
// nearest even (NaN stays NaN, overflow goes to infinity, f16 subnormals
// handled), and bf16/f16 -> float exactly.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_DTYPE_H
#define RINGRT_DTYPE_H

#include <cstdint>
#include <cstring>

namespace ringrt {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// float -> bf16, round to nearest even; NaN maps to a quiet NaN.
inline uint16_t floatToBF16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((u >> 16) | 0x40);
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return static_cast<uint16_t>(u >> 16);
}

/// bf16 -> float (exact).
inline float bf16ToFloat(uint16_t h) {
  return bitsFloat(static_cast<uint32_t>(h) << 16);
}

/// float -> IEEE binary16, round to nearest even, with subnormals.
inline uint16_t floatToF16(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) // NaN
    return sign | 0x7e00u;
  if (absu >= 0x477ff000u) // rounds to >= 65520: infinity
    return sign | 0x7c00u;
  if (absu < 0x38800000u) { // below the smallest normal 2^-14: subnormal
    // Value in units of 2^-24, rounded to nearest even.
    float a = bitsFloat(absu);
    float scaled = a * 16777216.0f; // exact (power of two)
    uint32_t q = static_cast<uint32_t>(scaled);
    float rem = scaled - static_cast<float>(q);
    if (rem > 0.5f || (rem == 0.5f && (q & 1u)))
      ++q;
    return sign | static_cast<uint16_t>(q);
  }
  uint32_t exp = (absu >> 23) - 127 + 15;
  uint32_t mant = absu & 0x7fffffu;
  uint32_t half = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
    ++half; // may carry into the exponent, which is correct
  return sign | static_cast<uint16_t>(half);
}

/// IEEE binary16 -> float (exact).
inline float f16ToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return bitsFloat(floatBits(v) | sign);
  }
  if (exp == 31)
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  return bitsFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

} // namespace ringrt

#endif // RINGRT_DTYPE_H
