//===- KernelBuilder.h - helpers for building CPU kernels -------*- C++ -*-===//
//
// This file declares KernelBuilder, a builder with the constants, loops and
// conversions the CPU kernels are made of, the global-position formulas of
// the sequence layouts, and KernelCache, which creates each distinct kernel
// variant once as a private function of the module.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_KERNELBUILDER_H
#define RINGC_CODEGEN_CPU_KERNELBUILDER_H

#include "dialect/RingOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/StringMap.h"
#include <optional>

namespace mlir::ring::cpu {

struct CpuVariant;

/// Width in lanes of the key tile of the attention kernel.
constexpr int64_t kKeyTile = 16;

/// An ImplicitLocOpBuilder with the pieces kernels are built from.
class KernelBuilder : public ImplicitLocOpBuilder {
public:
  using ImplicitLocOpBuilder::ImplicitLocOpBuilder;

  Value index(int64_t v);
  Value i64(int64_t v);
  Value i32(int64_t v);
  Value f32(double v);
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  /// A vector<NxT> with every lane `scalar`.
  Value splat(int64_t lanes, Value scalar);

  /// `for iv in [lb, ub) step step { body(iv) }`.
  void forRange(Value lb, Value ub, Value step,
                function_ref<void(Value)> body);
  void forRange(int64_t lb, int64_t ub, int64_t step,
                function_ref<void(Value)> body);
  /// The same with loop-carried values; `body` returns the next values.
  SmallVector<Value>
  forRangeIter(Value lb, Value ub, Value step, ValueRange init,
               function_ref<SmallVector<Value>(Value, ValueRange)> body);
  SmallVector<Value>
  forRangeIter(int64_t lb, int64_t ub, int64_t step, ValueRange init,
               function_ref<SmallVector<Value>(Value, ValueRange)> body);
  /// `if cond { body() }`.
  void ifThen(Value cond, function_ref<void()> body);
  /// `cond ? thenFn() : elseFn()` as an scf.if with results.
  SmallVector<Value> ifElse(Value cond,
                            function_ref<SmallVector<Value>()> thenFn,
                            function_ref<SmallVector<Value>()> elseFn);

  /// Widens a bf16/f16 scalar or vector to f32 (f32 passes through).
  Value widen(Value v);
  /// Rounds an f32 scalar or vector to `elementType` (to nearest even).
  Value narrow(Value v, Type elementType);
  /// Loads `lanes` elements at `indices` of `memref` as a vector of f32.
  Value loadF32(Value memref, ValueRange indices, int64_t lanes);
  /// Scalar load widened to f32.
  Value loadScalarF32(Value memref, ValueRange indices);

  /// A 1-d view of a memref with the identity layout.
  Value flatten(Value memref);
};

/// The global token position (i64) of local row `row` (i64) of a buffer
/// owned by ring rank `owner` (i64), as RingOps.td defines it:
///   none: owner·Ll + i; zigzag: C = Ll/2, owner·C + i for i < C, else
///   (2P−1−owner)·C + (i − C); striped: i·P + owner.
/// With `seqLen` (the op's seq_len: padded parts), the positions of the
/// padded layout, and `*valid` (if given) is set to an i1 that is false on
/// padding rows; without it, `*valid` is set to null.
Value globalPosition(KernelBuilder &b, Balance layout, int64_t localSeq,
                     int64_t ringSize, Value owner, Value row,
                     std::optional<uint64_t> seqLen = std::nullopt,
                     Value *valid = nullptr);

/// The position of local row `row` of ring rank `owner` that the masks
/// compare (i64): its global position (globalPosition), and with `seqLen`
/// (padded parts) on padding rows the sentinels of Visibility.h for a
/// sequence of localSeq·ringSize positions: paddingKeyPosition (`isKey`)
/// or paddingQueryPosition, which keyVisible with `padded` never admits.
Value maskPosition(KernelBuilder &b, Balance layout, int64_t localSeq,
                   int64_t ringSize, std::optional<uint64_t> seqLen,
                   Value owner, Value row, bool isKey);

/// Whether key position `kPos` is visible to query position `qPos` (i64
/// scalars from maskPosition) under the causal mask and the sliding window
/// `window` (null: none) of a sequence of `seq` tokens (Visibility.h; `seq`
/// the localSeq·ringSize of maskPosition), and with `padded` not for the
/// padding rows; or a null Value when nothing is masked.
Value keyVisible(KernelBuilder &b, Value qPos, Value kPos, bool causal,
                 WindowAttr window, int64_t seq, bool padded = false);

/// The document of query position `qPos` (i64) under packed documents:
/// its first and last token positions (i64), found by a binary search of
/// `cu` (memref<N+1 x i32>, the validated cu_seqlens: cu[0] = 0,
/// non-decreasing, cu[N] = L) for the largest d with cu[d] <= qPos. The
/// search runs a fixed ceil(log2 N) + 1 steps (a loop without a data-
/// dependent exit). A position outside [0, L) (a padding row's sentinel)
/// gets an empty or unrelated range; its own mask rejects every key.
std::pair<Value, Value> documentBounds(KernelBuilder &b, Value cu, Value qPos);

/// `visible` (an i1 from keyVisible, or null for "every key") and key
/// position `kPos` (i64) inside `document`, the [first, last] of
/// documentBounds.
Value visibleInDocument(KernelBuilder &b, Value visible, Value kPos,
                        std::pair<Value, Value> document);

/// The transpose of an n × n matrix held as n vector<n> rows (n a power of
/// two): log2 n rounds of two-source shuffles, each swapping one bit of the
/// row index with the same bit of the column index (n·log2 n shuffles,
/// which x86 lowers to unpck/shuf/vpermt2 instructions; upstream's default
/// vector.transpose lowering moves one element at a time).
SmallVector<Value> transposeSquare(KernelBuilder &b, ArrayRef<Value> rows);

/// The widest vector (a power of two, at most 16 lanes) that divides `n`.
int64_t vectorWidthFor(int64_t n);

/// A string identifying an op's variant: its operand types and attributes.
std::string variantKey(Operation *op);

/// Private kernel functions, created once per variant key at the start of
/// the module, and external declarations.
class KernelCache {
public:
  /// With a `variant` (CpuVariants.h), kernels are named
  /// `prefix`_`variant`_N and compiled for it.
  explicit KernelCache(ModuleOp module, const CpuVariant *variant = nullptr)
      : module(module), variant(variant) {}

  /// Returns the kernel `prefix`_N for `key`; the first time, creates it
  /// with `type` and calls `build` with a builder in its entry block (the
  /// terminator is added afterwards).
  func::FuncOp
  getOrCreate(StringRef prefix, StringRef key, FunctionType type,
              function_ref<void(KernelBuilder &, func::FuncOp)> build);

  /// Declares the external function `name` (once).
  func::FuncOp declare(StringRef name, FunctionType type);

  /// Every kernel created so far.
  ArrayRef<func::FuncOp> all() const { return created; }
  /// The ISA variant the kernels are for; null without variants.
  const CpuVariant *cpuVariant() const { return variant; }

private:
  ModuleOp module;
  const CpuVariant *variant;
  llvm::StringMap<func::FuncOp> kernels;
  SmallVector<func::FuncOp> created;
  llvm::StringMap<unsigned> counters;
};

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_KERNELBUILDER_H
