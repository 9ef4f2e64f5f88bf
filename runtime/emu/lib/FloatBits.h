//===- FloatBits.h - f16/bf16/f32 bit conversions -------------------*- C++ -*-===//
//
// This file implements the IEEE conversions between f32 and the 16-bit
// formats with the rounding modes cvt supports, as bit manipulations that
// do not depend on host half-precision support.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_FLOATBITS_H
#define RINGRT_EMU_LIB_FLOATBITS_H

#include "Instr.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ringrt::emu {

inline float bitsToF32(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline uint32_t f32ToBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline double bitsToF64(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
inline uint64_t f64ToBits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

/// Flushes an f32 subnormal to a zero of the same sign (.ftz).
inline float flushF32(float f) {
  return std::fpclassify(f) == FP_SUBNORMAL ? std::copysign(0.0f, f) : f;
}

/// Returns true when dropping `dropped` low bits of `mant` (whose kept part
/// is `kept`) must round away from zero under `mode` for sign `neg`.
inline bool roundUp(uint32_t kept, uint32_t droppedBits, unsigned nDropped,
                    Round mode, bool neg) {
  if (nDropped == 0 || droppedBits == 0)
    return false;
  uint32_t half = 1u << (nDropped - 1);
  switch (mode) {
  case Round::Rz:
    return false;
  case Round::Rm:
    return neg;
  case Round::Rp:
    return !neg;
  default: // round to nearest even
    return droppedBits > half || (droppedBits == half && (kept & 1));
  }
}

/// The canonical NaNs a GPU produces: its arithmetic and conversions keep
/// no NaN payload (and the emulator neither, so that a NaN a kernel
/// computes from a poison value is not the poison, bit for bit).
constexpr uint32_t kCanonicalNaN32 = 0x7fffffff;
constexpr uint16_t kCanonicalNaN16 = 0x7fff;

/// f32 -> bf16 with rounding (NaN: the canonical NaN).
inline uint16_t f32ToBF16(float f, Round mode = Round::Rn) {
  uint32_t b = f32ToBits(f);
  if (std::isnan(f))
    return kCanonicalNaN16;
  uint32_t kept = b >> 16;
  if (roundUp(kept, b & 0xffff, 16, mode, b >> 31))
    ++kept; // carries into the exponent correctly, incl. to infinity
  return uint16_t(kept);
}
inline float bf16ToF32(uint16_t h) { return bitsToF32(uint32_t(h) << 16); }

/// f32 -> f16 with rounding, handling subnormals, overflow and NaN.
inline uint16_t f32ToF16(float f, Round mode = Round::Rn) {
  uint32_t b = f32ToBits(f);
  uint16_t sign = uint16_t((b >> 16) & 0x8000);
  bool neg = b >> 31;
  int32_t exp = int32_t((b >> 23) & 0xff);
  uint32_t mant = b & 0x7fffff;
  if (exp == 0xff)
    return mant ? kCanonicalNaN16 : uint16_t(sign | 0x7c00);
  int32_t e = exp - 127 + 15;
  if (exp == 0 && mant == 0)
    return sign;
  uint32_t full = mant | (exp ? 0x800000u : 0); // 24-bit significand
  if (exp == 0)
    e = -14 - 126 + 127 - 15 + 15; // f32 subnormal: far below f16 range
  if (e >= 31) {
    bool toInf = mode == Round::Rn || (mode == Round::Rp && !neg) ||
                 (mode == Round::Rm && neg);
    return sign | (toInf ? 0x7c00 : 0x7bff);
  }
  unsigned shift = 13;
  if (e <= 0) {
    shift = unsigned(14 - e);
    if (shift > 25) { // below half the smallest subnormal
      bool up = (mode == Round::Rp && !neg) || (mode == Round::Rm && neg);
      return sign | (up ? 1 : 0);
    }
    e = 0;
  }
  uint32_t kept = full >> shift;
  uint32_t dropped = full & ((1u << shift) - 1);
  if (e > 0)
    kept = (kept & 0x3ff) | (uint32_t(e) << 10);
  if (roundUp(kept, dropped, shift, mode, neg))
    ++kept; // may carry into exponent (and to infinity) correctly
  return sign | uint16_t(kept);
}

inline float f16ToF32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f)
    return bitsToF32(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {
    float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  return bitsToF32(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_FLOATBITS_H
