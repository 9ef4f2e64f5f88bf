//===- MlirEmitter.cpp - textual MLIR builder for GPU kernels ---*- C++ -*-===//
//
// This file implements MlirEmitter: SSA naming, constant hoisting and the
// spellings of the arith/llvm/nvvm ops the generated kernels use.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/MlirEmitter.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace mlir::ring::gpu;
using llvm::StringRef;
using llvm::Twine;

std::string MlirEmitter::let(const Twine &rhs) {
  std::string v = fresh();
  body += indent() + v + " = " + rhs.str() + "\n";
  return v;
}

void MlirEmitter::line(const Twine &text) {
  body += indent() + text.str() + "\n";
}

static std::string cached(std::map<std::string, std::string> &cache,
                          std::string &consts, int &next,
                          const std::string &rhs) {
  auto it = cache.find(rhs);
  if (it != cache.end())
    return it->second;
  std::string v = "%c" + std::to_string(next++);
  consts += "    " + v + " = " + rhs + "\n";
  cache[rhs] = v;
  return v;
}

std::string MlirEmitter::i32(int64_t v) {
  return cached(constCache, consts, next,
                "arith.constant " + std::to_string(v) + " : i32");
}

std::string MlirEmitter::i64(int64_t v) {
  return cached(constCache, consts, next,
                "arith.constant " + std::to_string(v) + " : i64");
}

std::string MlirEmitter::i1(bool v) {
  return cached(constCache, consts, next,
                std::string("arith.constant ") + (v ? "true" : "false"));
}

std::string MlirEmitter::f32(double v) {
  // Exact: the f32 value as a hexadecimal bit pattern.
  float f = static_cast<float>(v);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "arith.constant " << llvm::format_hex(bits, 10) << " : f32";
  return cached(constCache, consts, next, os.str());
}

std::string MlirEmitter::negInf() { return f32(-INFINITY); }

std::string MlirEmitter::add(const std::string &a, const std::string &b,
                             StringRef ty) {
  return let("arith.addi " + a + ", " + b + " : " + ty);
}
std::string MlirEmitter::sub(const std::string &a, const std::string &b,
                             StringRef ty) {
  return let("arith.subi " + a + ", " + b + " : " + ty);
}
std::string MlirEmitter::mul(const std::string &a, const std::string &b,
                             StringRef ty) {
  return let("arith.muli " + a + ", " + b + " : " + ty);
}
std::string MlirEmitter::divu(const std::string &a, const std::string &b) {
  return let("arith.divui " + a + ", " + b + " : i32");
}
std::string MlirEmitter::remu(const std::string &a, const std::string &b) {
  return let("arith.remui " + a + ", " + b + " : i32");
}
std::string MlirEmitter::minu(const std::string &a, const std::string &b) {
  return let("arith.minui " + a + ", " + b + " : i32");
}
std::string MlirEmitter::cmp(StringRef pred, const std::string &a,
                             const std::string &b, StringRef ty) {
  return let("arith.cmpi " + pred + ", " + a + ", " + b + " : " + ty);
}
std::string MlirEmitter::select(const std::string &c, const std::string &a,
                                const std::string &b, StringRef ty) {
  return let("arith.select " + c + ", " + a + ", " + b + " : " + ty);
}
std::string MlirEmitter::ext64(const std::string &a) {
  return let("arith.extui " + a + " : i32 to i64");
}
std::string MlirEmitter::fadd(const std::string &a, const std::string &b) {
  return let("arith.addf " + a + ", " + b + " : f32");
}
std::string MlirEmitter::fsub(const std::string &a, const std::string &b) {
  return let("arith.subf " + a + ", " + b + " : f32");
}
std::string MlirEmitter::fmul(const std::string &a, const std::string &b) {
  return let("arith.mulf " + a + ", " + b + " : f32");
}
std::string MlirEmitter::fdiv(const std::string &a, const std::string &b) {
  return let("arith.divf " + a + ", " + b + " : f32");
}
std::string MlirEmitter::fmax(const std::string &a, const std::string &b) {
  // llvm.intr.maxnum, not arith.maxnumf: convert-gpu-to-nvvm turns the
  // latter into a libdevice call (__nv_fmaxf), which we do not link.
  return let("llvm.intr.maxnum(" + a + ", " + b + ") : (f32, f32) -> f32");
}
std::string MlirEmitter::fcmp(StringRef pred, const std::string &a,
                              const std::string &b) {
  return let("arith.cmpf " + pred + ", " + a + ", " + b + " : f32");
}
std::string MlirEmitter::exp2(const std::string &a) {
  return let("llvm.call_intrinsic \"llvm.nvvm.ex2.approx.ftz.f\"(" + a +
             ") : (f32) -> f32");
}
std::string MlirEmitter::log2(const std::string &a) {
  return let("llvm.call_intrinsic \"llvm.nvvm.lg2.approx.ftz.f\"(" + a +
             ") : (f32) -> f32");
}
std::string MlirEmitter::gep(const std::string &ptr, const std::string &off,
                             int as, StringRef offTy) {
  std::string pty = as ? "!llvm.ptr<" + std::to_string(as) + ">" : "!llvm.ptr";
  return let("llvm.getelementptr " + ptr + "[" + off + "] : (" + pty + ", " +
             offTy + ") -> " + pty + ", i8");
}

std::string MlirEmitter::str() const { return consts + body; }
