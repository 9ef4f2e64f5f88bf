//===- MlirEmitter.h - textual MLIR builder for GPU kernels -----*- C++ -*-===//
//
// This file declares MlirEmitter, a small helper that writes the body of a
// `gpu.func` in MLIR's generic textual form (arith, scf, llvm and nvvm ops):
// fresh SSA names, hoisted constants and the handful of op spellings the
// kernels use.
//
// Why text rather than OpBuilder: the kernels are fully unrolled register
// programs of a few thousand ops whose shape depends only on the tile
// configuration; writing them as text keeps each generator a readable
// transcription of the algorithm, and the result is parsed and verified by
// MLIR (parseSourceString) before any lowering, so nothing escapes the
// verifiers that OpBuilder would run.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_MLIREMITTER_H
#define RINGC_CODEGEN_GPU_MLIREMITTER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::ring::gpu {

/// Writes ops as text; every value-producing helper returns the SSA name.
class MlirEmitter {
public:
  /// Emits `%new = <rhs>` and returns `%new`.
  std::string let(const llvm::Twine &rhs);
  /// Emits `<text>` as a line.
  void line(const llvm::Twine &text);
  /// Opens/closes a nested region (indentation only).
  void open(const llvm::Twine &text) { line(text); ++depth; }
  void close(const llvm::Twine &text = "}") { --depth; line(text); }
  /// Closes a region and opens the next one of the same op ("} else {").
  void reopen(const llvm::Twine &text) { --depth; line(text); ++depth; }

  /// Hoisted constants (emitted at function entry so they dominate all
  /// uses).
  std::string i32(int64_t v);
  std::string i64(int64_t v);
  std::string f32(double v);
  std::string negInf();
  std::string i1(bool v);

  // i32/i64 arithmetic (type given by `ty`, default i32).
  std::string add(const std::string &a, const std::string &b,
                  llvm::StringRef ty = "i32");
  std::string sub(const std::string &a, const std::string &b,
                  llvm::StringRef ty = "i32");
  std::string mul(const std::string &a, const std::string &b,
                  llvm::StringRef ty = "i32");
  std::string divu(const std::string &a, const std::string &b);
  std::string remu(const std::string &a, const std::string &b);
  std::string minu(const std::string &a, const std::string &b);
  std::string cmp(llvm::StringRef pred, const std::string &a,
                  const std::string &b, llvm::StringRef ty = "i32");
  std::string select(const std::string &c, const std::string &a,
                     const std::string &b, llvm::StringRef ty);
  std::string ext64(const std::string &a);

  // f32 arithmetic.
  std::string fadd(const std::string &a, const std::string &b);
  std::string fsub(const std::string &a, const std::string &b);
  std::string fmul(const std::string &a, const std::string &b);
  std::string fdiv(const std::string &a, const std::string &b);
  std::string fmax(const std::string &a, const std::string &b);
  std::string fcmp(llvm::StringRef pred, const std::string &a,
                   const std::string &b);
  /// 2^x and log2(x) (ex2.approx / lg2.approx: convert-gpu-to-nvvm would
  /// turn math.exp2 into a libdevice call, which we do not link).
  std::string exp2(const std::string &a);
  std::string log2(const std::string &a);

  /// Byte-offset a pointer of address space `as` (i32 or i64 offset).
  std::string gep(const std::string &ptr, const std::string &off, int as,
                  llvm::StringRef offTy = "i32");

  /// A fresh SSA name for block arguments and multi-result ops.
  std::string newName() { return fresh(); }

  /// The program text: constants first, then the body.
  std::string str() const;

private:
  std::string indent() const { return std::string(4 + 2 * depth, ' '); }
  std::string fresh() { return "%v" + std::to_string(next++); }

  std::string consts;
  std::string body;
  std::map<std::string, std::string> constCache;
  int next = 0;
  int depth = 0;
};

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_MLIREMITTER_H
