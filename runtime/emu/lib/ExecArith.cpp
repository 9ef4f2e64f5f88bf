//===- ExecArith.cpp - Arithmetic, logic, setp, selp, mov --------*- C++ -*-===//
//
// This file implements the integer and floating-point ALU instructions:
// add/sub/mul/mad/fma/div/rem/min/max/neg/abs, the f32 special functions
// (rcp, sqrt, rsqrt, ex2, lg2, sin, cos), bitwise ops, shifts, prmt, bfe,
// comparisons, selection and mov (including vector pack and unpack).
//
//===----------------------------------------------------------------------===//

#include "Exec.h"
#include "FloatBits.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

using namespace ringrt::emu;

namespace {
/// Floating-point operation on `T` (float or double).
template <typename T> struct FloatOps {
  static T get(uint64_t v);
  static uint64_t put(T v);
};
template <> float FloatOps<float>::get(uint64_t v) {
  return bitsToF32(uint32_t(v));
}
template <> uint64_t FloatOps<float>::put(float v) { return f32ToBits(v); }
template <> double FloatOps<double>::get(uint64_t v) { return bitsToF64(v); }
template <> uint64_t FloatOps<double>::put(double v) { return f64ToBits(v); }
} // namespace

template <typename T>
static T floatMinMax(T a, T b, bool isMax, bool propagateNaN) {
  if (std::isnan(a) || std::isnan(b)) {
    if (propagateNaN || (std::isnan(a) && std::isnan(b)))
      return std::numeric_limits<T>::quiet_NaN();
    return std::isnan(a) ? b : a;
  }
  if (a == b) // -0 < +0 for min/max
    return isMax ? (std::signbit(a) ? b : a) : (std::signbit(a) ? a : b);
  return isMax ? (a > b ? a : b) : (a < b ? a : b);
}

template <typename T>
static void floatOp(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  using F = FloatOps<T>;
  bool ftz = (I.flags & FlagFtz) && sizeof(T) == 4;
  auto in = [&](unsigned i, unsigned l) {
    T v = F::get(x.read(I.ops[i], w, l));
    return ftz ? T(flushF32(float(v))) : v;
  };
  forLanes(mask, [&](unsigned l) {
    T r = 0;
    switch (I.op) {
    case Opcode::Add: r = in(1, l) + in(2, l); break;
    case Opcode::Sub: r = in(1, l) - in(2, l); break;
    case Opcode::Mul: r = in(1, l) * in(2, l); break;
    case Opcode::Fma: r = std::fma(in(1, l), in(2, l), in(3, l)); break;
    case Opcode::Div: r = in(1, l) / in(2, l); break;
    case Opcode::Min: case Opcode::Max:
      r = floatMinMax(in(1, l), in(2, l), I.op == Opcode::Max,
                      I.flags & FlagNaN);
      break;
    case Opcode::Neg: r = -in(1, l); break;
    case Opcode::Abs: r = std::fabs(in(1, l)); break;
    case Opcode::Rcp: r = T(1) / in(1, l); break;
    case Opcode::Sqrt: r = std::sqrt(in(1, l)); break;
    case Opcode::Rsqrt: r = T(1) / std::sqrt(in(1, l)); break;
    case Opcode::Ex2: r = std::exp2(in(1, l)); ++x.prof.ex2; break;
    case Opcode::Lg2: r = std::log2(in(1, l)); break;
    case Opcode::Sin: r = std::sin(in(1, l)); break;
    case Opcode::Cos: r = std::cos(in(1, l)); break;
    case Opcode::Copysign: r = std::copysign(in(2, l), in(1, l)); break;
    default:
      x.fault(I, w, l, "internal: not a floating-point ALU op");
      return;
    }
    if (I.flags & FlagSat)
      r = std::isnan(r) ? T(0) : std::fmin(std::fmax(r, T(0)), T(1));
    if (ftz)
      r = T(flushF32(float(r)));
    // f32 arithmetic on a GPU keeps no NaN payload (neg, abs and copysign
    // only touch the sign bit).
    if (sizeof(T) == 4 && std::isnan(r) && I.op != Opcode::Neg &&
        I.op != Opcode::Abs && I.op != Opcode::Copysign) {
      x.write(I.ops[0], w, l, kCanonicalNaN32);
      return;
    }
    x.write(I.ops[0], w, l, F::put(r));
  });
}

/// neg/abs on 16-bit and packed floating-point types only touch sign bits.
static void signBitOp(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  uint64_t sign = (I.type == DType::F16 || I.type == DType::BF16)
                      ? 0x8000
                      : 0x80008000;
  forLanes(mask, [&](unsigned l) {
    uint64_t v = x.read(I.ops[1], w, l);
    v = I.op == Opcode::Neg ? v ^ sign : v & ~sign;
    x.write(I.ops[0], w, l, v & widthMask(typeBytes(I.type)));
  });
}

static uint32_t prmt(uint32_t a, uint32_t b, uint32_t c) {
  uint64_t bytes = uint64_t(a) | (uint64_t(b) << 32);
  uint32_t r = 0;
  for (unsigned i = 0; i < 4; ++i) {
    unsigned sel = (c >> (4 * i)) & 0xf;
    uint8_t byte = uint8_t(bytes >> (8 * (sel & 7)));
    if (sel & 8) // replicate the sign bit of the selected byte
      byte = (byte & 0x80) ? 0xff : 0;
    r |= uint32_t(byte) << (8 * i);
  }
  return r;
}

static void intOp(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned bytes = typeBytes(I.type);
  const bool sgn = isSigned(I.type);
  const uint64_t wm = widthMask(bytes);
  const unsigned bits = 8 * bytes;
  auto u = [&](unsigned i, unsigned l) { return x.read(I.ops[i], w, l) & wm; };
  auto s = [&](unsigned i, unsigned l) {
    return signExtend(x.read(I.ops[i], w, l), bytes);
  };
  forLanes(mask, [&](unsigned l) {
    uint64_t r = 0;
    unsigned outBytes = bytes;
    switch (I.op) {
    case Opcode::Add:
    case Opcode::Sub:
      if (I.flags & FlagSat) { // .s32 only
        int64_t v = I.op == Opcode::Add ? s(1, l) + s(2, l) : s(1, l) - s(2, l);
        v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
        r = uint64_t(v);
      } else {
        r = I.op == Opcode::Add ? u(1, l) + u(2, l) : u(1, l) - u(2, l);
      }
      break;
    case Opcode::Mul:
    case Opcode::Mad: {
      __int128 p = sgn ? __int128(s(1, l)) * s(2, l)
                       : __int128((unsigned __int128)u(1, l) * u(2, l));
      if (I.flags & FlagWide) {
        outBytes = 2 * bytes;
        r = uint64_t(p);
      } else if (I.flags & FlagHi) {
        r = uint64_t(p >> bits);
      } else {
        r = uint64_t(p);
      }
      if (I.op == Opcode::Mad)
        r += x.read(I.ops[3], w, l);
      break;
    }
    case Opcode::Div:
    case Opcode::Rem:
      if (u(2, l) == 0) {
        r = I.op == Opcode::Div ? ~0ull : u(1, l);
      } else if (sgn) {
        int64_t a = s(1, l), b = s(2, l);
        if (b == -1)
          r = I.op == Opcode::Div ? uint64_t(-a) : 0;
        else
          r = uint64_t(I.op == Opcode::Div ? a / b : a % b);
      } else {
        r = I.op == Opcode::Div ? u(1, l) / u(2, l) : u(1, l) % u(2, l);
      }
      break;
    case Opcode::Min:
      r = sgn ? uint64_t(std::min(s(1, l), s(2, l))) : std::min(u(1, l), u(2, l));
      break;
    case Opcode::Max:
      r = sgn ? uint64_t(std::max(s(1, l), s(2, l))) : std::max(u(1, l), u(2, l));
      break;
    case Opcode::Neg: r = uint64_t(-s(1, l)); break;
    case Opcode::Abs: r = uint64_t(std::llabs(s(1, l))); break;
    case Opcode::And: r = u(1, l) & u(2, l); break;
    case Opcode::Or: r = u(1, l) | u(2, l); break;
    case Opcode::Xor: r = u(1, l) ^ u(2, l); break;
    case Opcode::Not: r = I.type == DType::Pred ? !u(1, l) : ~u(1, l); break;
    case Opcode::Shl: {
      uint64_t n = x.read(I.ops[2], w, l) & 0xffffffff;
      r = n >= bits ? 0 : u(1, l) << n;
      break;
    }
    case Opcode::Shr: {
      uint64_t n = x.read(I.ops[2], w, l) & 0xffffffff;
      if (sgn)
        r = uint64_t(s(1, l) >> (n >= bits ? bits - 1 : n));
      else
        r = n >= bits ? 0 : u(1, l) >> n;
      break;
    }
    case Opcode::Popc:
      r = uint64_t(__builtin_popcountll(u(1, l)));
      outBytes = 4;
      break;
    case Opcode::Clz: {
      uint64_t v = u(1, l);
      r = v ? uint64_t(__builtin_clzll(v)) - (64 - bits) : bits;
      outBytes = 4;
      break;
    }
    case Opcode::Brev: {
      uint64_t v = u(1, l);
      for (unsigned i = 0; i < bits; ++i)
        r |= ((v >> i) & 1) << (bits - 1 - i);
      break;
    }
    case Opcode::Bfe: {
      unsigned pos = unsigned(x.read(I.ops[2], w, l) & 0xff);
      unsigned len = unsigned(x.read(I.ops[3], w, l) & 0xff);
      uint64_t v = u(1, l);
      uint64_t field = pos >= bits ? 0 : v >> pos;
      if (len < 64)
        field &= (1ull << len) - 1;
      if (sgn && len) {
        unsigned top = std::min(pos + len - 1, bits - 1);
        bool sbit = (v >> top) & 1;
        if (len < 64 && sbit)
          field |= ~((1ull << len) - 1);
        if (len == 0)
          field = 0;
      }
      r = field;
      break;
    }
    case Opcode::Prmt:
      r = prmt(uint32_t(u(1, l)), uint32_t(u(2, l)), uint32_t(u(3, l)));
      break;
    default:
      x.fault(I, w, l, "internal: not an integer ALU op");
      return;
    }
    x.write(I.ops[0], w, l, r & widthMask(outBytes));
  });
}

template <typename T>
static bool compare(CmpOp c, T a, T b, bool isFloatType) {
  bool unord = isFloatType && (std::isnan(double(a)) || std::isnan(double(b)));
  switch (c) {
  case CmpOp::Eq: return !unord && a == b;
  case CmpOp::Ne: return !unord && a != b;
  case CmpOp::Lt: case CmpOp::Lo: return !unord && a < b;
  case CmpOp::Le: case CmpOp::Ls: return !unord && a <= b;
  case CmpOp::Gt: case CmpOp::Hi: return !unord && a > b;
  case CmpOp::Ge: case CmpOp::Hs: return !unord && a >= b;
  case CmpOp::Equ: return unord || a == b;
  case CmpOp::Neu: return unord || a != b;
  case CmpOp::Ltu: return unord || a < b;
  case CmpOp::Leu: return unord || a <= b;
  case CmpOp::Gtu: return unord || a > b;
  case CmpOp::Geu: return unord || a >= b;
  case CmpOp::Num: return !unord;
  case CmpOp::Nan: return unord;
  }
  return false;
}

static void setp(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const unsigned bytes = typeBytes(I.type);
  forLanes(mask, [&](unsigned l) {
    uint64_t a = x.read(I.ops[1], w, l), b = x.read(I.ops[2], w, l);
    bool r;
    if (I.type == DType::F32) {
      float fa = bitsToF32(uint32_t(a)), fb = bitsToF32(uint32_t(b));
      if (I.flags & FlagFtz) {
        fa = flushF32(fa);
        fb = flushF32(fb);
      }
      r = compare(I.cmp, fa, fb, true);
    } else if (I.type == DType::F64) {
      r = compare(I.cmp, bitsToF64(a), bitsToF64(b), true);
    } else if (isSigned(I.type)) {
      r = compare(I.cmp, signExtend(a, bytes), signExtend(b, bytes), false);
    } else {
      uint64_t m = widthMask(bytes);
      r = compare(I.cmp, a & m, b & m, false);
    }
    x.write(I.ops[0], w, l, r);
    if (I.ops[0].pred2)
      x.writeReg(I.ops[0].pred2 - 1, w, l, !r);
  });
}

static void mov(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  const Operand &d = I.ops[0], &s = I.ops[1];
  const unsigned bytes = typeBytes(I.type);
  if (s.kind == Operand::Vector || d.kind == Operand::Vector) {
    // Pack {lo, ..., hi} into one register, or unpack one into parts.
    bool pack = s.kind == Operand::Vector;
    const Operand &v = pack ? s : d;
    unsigned partBits = 8 * bytes / v.count;
    uint64_t pm = widthMask(partBits / 8);
    forLanes(mask, [&](unsigned l) {
      if (pack) {
        uint64_t r = 0;
        for (unsigned i = 0; i < v.count; ++i)
          r |= (x.read(x.elem(v, i), w, l) & pm) << (i * partBits);
        x.write(d, w, l, r);
      } else {
        uint64_t r = x.read(s, w, l);
        for (unsigned i = 0; i < v.count; ++i)
          x.write(x.elem(v, i), w, l, (r >> (i * partBits)) & pm);
      }
    });
    return;
  }
  uint64_t m = widthMask(bytes);
  forLanes(mask, [&](unsigned l) {
    uint64_t v = x.read(s, w, l);
    x.write(d, w, l, I.type == DType::Pred ? (v != 0) : v & m);
  });
}

void ringrt::emu::execArith(const Instr &I, Warp &w, uint32_t mask, Exec &x) {
  switch (I.op) {
  case Opcode::Mov:
    return mov(I, w, mask, x);
  case Opcode::Setp:
    return setp(I, w, mask, x);
  case Opcode::Selp: {
    uint64_t m = widthMask(typeBytes(I.type));
    forLanes(mask, [&](unsigned l) {
      bool c = x.read(I.ops[3], w, l) != 0;
      x.write(I.ops[0], w, l, x.read(I.ops[c ? 1 : 2], w, l) & m);
    });
    return;
  }
  default:
    break;
  }
  if (I.type == DType::F32)
    return floatOp<float>(I, w, mask, x);
  if (I.type == DType::F64)
    return floatOp<double>(I, w, mask, x);
  if (isFloat(I.type))
    return signBitOp(I, w, mask, x);
  intOp(I, w, mask, x);
}
