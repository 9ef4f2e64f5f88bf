//===- ExecConvert.cpp - cvt ---------------------------------------*- C++ -*-===//
//
// This file implements cvt between integer widths, between integers and
// floating point, and between f64/f32/f16/bf16 (including the packed
// cvt.rn.{bf16x2,f16x2}.f32 forms) with the PTX rounding modes.
//
//===----------------------------------------------------------------------===//

#include "Exec.h"
#include "FloatBits.h"

#include <cmath>
#include <limits>

using namespace ringrt::emu;

/// Reads a floating-point source as double (exact for every source type).
static double floatValue(DType t, uint64_t v) {
  switch (t) {
  case DType::F16: return f16ToF32(uint16_t(v));
  case DType::BF16: return bf16ToF32(uint16_t(v));
  case DType::F32: return bitsToF32(uint32_t(v));
  default: return bitsToF64(v);
  }
}

/// Rounds to an integral value per an integer rounding modifier.
static double roundIntegral(double v, Round r) {
  switch (r) {
  case Round::Rzi: return std::trunc(v);
  case Round::Rmi: return std::floor(v);
  case Round::Rpi: return std::ceil(v);
  default: return std::nearbyint(v); // rni: nearest even (default env)
  }
}

/// Rounds a double to float with an IEEE rounding modifier.
static float toF32(double v, Round r) {
  float f = float(v); // nearest even
  if (r == Round::Rz || r == Round::Rm || r == Round::Rp) {
    if (std::isnan(v) || double(f) == v)
      return f;
    bool tooBig = double(f) > v;
    if (r == Round::Rz && (v > 0) == tooBig)
      f = std::nextafter(f, 0.0f);
    else if (r == Round::Rm && tooBig)
      f = std::nextafter(f, -INFINITY);
    else if (r == Round::Rp && !tooBig)
      f = std::nextafter(f, INFINITY);
  }
  return f;
}

/// Converts to one floating-point destination of type `t`.
static uint64_t toFloat(DType t, double v, Round r, bool ftz, bool sat) {
  if (sat)
    v = std::isnan(v) ? 0.0 : std::fmin(std::fmax(v, 0.0), 1.0);
  if (r == Round::Rni || r == Round::Rzi || r == Round::Rmi ||
      r == Round::Rpi) {
    v = roundIntegral(v, r);
    r = Round::Rn;
  }
  if (r == Round::None)
    r = Round::Rn;
  switch (t) {
  case DType::F64:
    return f64ToBits(v);
  case DType::F32: {
    if (std::isnan(v))
      return kCanonicalNaN32;
    float f = toF32(v, r);
    return f32ToBits(ftz ? flushF32(f) : f);
  }
  // 16-bit results come from f32 or narrower sources, exact as float.
  case DType::F16:
    return f32ToF16(float(v), r);
  case DType::BF16:
    return f32ToBF16(float(v), r);
  default:
    return 0;
  }
}

/// Converts to an integer destination with saturation to its range.
static uint64_t toInt(DType t, double v, Round r) {
  unsigned bytes = typeBytes(t);
  if (std::isnan(v))
    return 0;
  v = roundIntegral(v, r == Round::None ? Round::Rzi : r);
  if (isSigned(t)) {
    double lo = -std::ldexp(1.0, 8 * bytes - 1);
    double hi = std::ldexp(1.0, 8 * bytes - 1) - 1;
    int64_t i = v <= lo ? int64_t(lo) : v >= hi ? (bytes == 8 ? INT64_MAX
                                                              : int64_t(hi))
                                                : int64_t(v);
    return uint64_t(i) & widthMask(bytes);
  }
  double hi = std::ldexp(1.0, 8 * bytes) - 1;
  if (v <= 0)
    return 0;
  if (v >= hi)
    return bytes == 8 ? UINT64_MAX : uint64_t(hi);
  return uint64_t(v);
}

void ringrt::emu::execConvert(const Instr &I, Warp &w, uint32_t mask,
                              Exec &x) {
  const DType dt = I.type, st = I.srcType;
  const bool ftz = I.flags & FlagFtz, sat = I.flags & FlagSat;
  const unsigned sBytes = typeBytes(st), dBytes = typeBytes(dt);
  if (dt == DType::BF16x2 || dt == DType::F16x2) {
    DType half = dt == DType::BF16x2 ? DType::BF16 : DType::F16;
    forLanes(mask, [&](unsigned l) {
      // d = {cvt(a) in the upper half, cvt(b) in the lower half}.
      double a = bitsToF32(uint32_t(x.read(I.ops[1], w, l)));
      double b = bitsToF32(uint32_t(x.read(I.ops[2], w, l)));
      uint64_t hi = toFloat(half, a, I.round, ftz, sat);
      uint64_t lo = toFloat(half, b, I.round, ftz, sat);
      x.write(I.ops[0], w, l, (hi << 16) | lo);
    });
    return;
  }
  forLanes(mask, [&](unsigned l) {
    uint64_t v = x.read(I.ops[1], w, l);
    uint64_t r;
    if (isFloat(dt)) {
      double d;
      if (isFloat(st)) {
        d = floatValue(st, v);
        if (ftz && st == DType::F32)
          d = flushF32(float(d));
      } else if (isSigned(st)) {
        d = double(signExtend(v, sBytes));
        if (sBytes == 8 && dt == DType::F32) { // avoid double rounding
          x.write(I.ops[0], w, l, f32ToBits(float(signExtend(v, 8))));
          return;
        }
      } else {
        d = double(v & widthMask(sBytes));
        if (sBytes == 8 && dt == DType::F32) {
          x.write(I.ops[0], w, l, f32ToBits(float(v)));
          return;
        }
      }
      r = toFloat(dt, d, I.round, ftz, sat);
    } else if (isFloat(st)) {
      double d = floatValue(st, v);
      if (ftz && st == DType::F32)
        d = flushF32(float(d));
      r = toInt(dt, d, I.round);
    } else {
      // Integer to integer: extend per the source, wrap or saturate.
      int64_t sv = isSigned(st) ? signExtend(v, sBytes)
                                : int64_t(v & widthMask(sBytes));
      if (sat) {
        r = toInt(dt, double(sv), Round::Rzi);
      } else {
        r = uint64_t(sv) & widthMask(dBytes);
      }
      if (isSigned(dt) && dBytes < 8)
        r = uint64_t(signExtend(r, dBytes)) & widthMask(dBytes);
    }
    x.write(I.ops[0], w, l, r);
  });
}
