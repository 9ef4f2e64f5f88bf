//===- SpecString.h - the one-line `--spec` form of a spec ------*- C++ -*-===//
//
// This file declares AttentionSpec, the parsed form of `ringc --spec
// "K=V,..."` (DESIGN.md section 4), and its rendering as a spec module: a
// shard.grid of shape ring x head_groups x dim_slices and a ring.attention
// on Q, K and V annotated with shard.shard.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_TOOLS_RINGC_SPECSTRING_H
#define RINGC_TOOLS_RINGC_SPECSTRING_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::ring {

struct AttentionSpec {
  int64_t batch = 1;
  int64_t heads = 0;   ///< required
  int64_t kvHeads = 0; ///< 0: same as heads
  int64_t seq = 0;     ///< required
  int64_t headDim = 0; ///< required
  int64_t ring = 1;
  int64_t headGroups = 1;
  int64_t dimSlices = 1;
  /// The all-to-all (Ulysses) degree U (spec key a2a).
  int64_t a2a = 1;
  /// ranks=N: the compiler chooses the grid (--explain / --auto); 0 when the
  /// grid keys give it.
  int64_t ranks = 0;
  bool causal = false;
  /// Also compile the backward pass (NAME_attention_backward).
  bool grad = false;
  /// d_model=N: the whole layer (ring.attention_layer) with projections;
  /// 0: attention alone.
  int64_t dModel = 0;
  /// bias=1: the layer's projections add biases.
  bool bias = false;
  /// layer_output: all_reduce or reduce_scatter (the layer's Y reduction).
  std::string layerOutput = "all_reduce";
  /// Sliding window sides (tokens; -1 = unlimited).
  int64_t windowLeft = -1, windowRight = -1;
  /// Packed documents: the most a call's cu_seqlens holds (0: none).
  int64_t maxDocs = 0;
  /// none, zigzag or striped; empty: zigzag when causal, else none.
  std::string balance;
  /// bf16, f16 or f32.
  std::string dtype = "bf16";
  /// Empty: 1/sqrt(head_dim).
  std::optional<double> scale;

  int64_t effectiveKvHeads() const { return kvHeads ? kvHeads : heads; }
  std::string effectiveBalance() const {
    return !balance.empty() ? balance : causal ? "zigzag" : "none";
  }
};

/// Parses "K=V,K=V,...". Errors name the key and what would be valid.
llvm::Expected<AttentionSpec> parseSpecString(llvm::StringRef text);

/// The spec module as MLIR text, without the scale (parseSpecModule sets
/// it with a builder).
std::string renderSpecModule(const AttentionSpec &spec,
                             llvm::StringRef funcName);

/// Builds and verifies the spec module of `spec`: the rendered text is
/// parsed from a buffer named `bufferName` added to `sourceMgr`, so diagnostics
/// show the line they are about, and the scale is set with a builder rather
/// than printed and re-parsed (a printed whole number such as "1" is not an
/// f64 literal). Returns null after emitting a diagnostic.
OwningOpRef<ModuleOp> parseSpecModule(const AttentionSpec &spec,
                                      llvm::StringRef funcName,
                                      llvm::SourceMgr &sourceMgr,
                                      MLIRContext *context,
                                      llvm::StringRef bufferName = "--spec");

/// The help text describing every key and its default.
llvm::StringRef specKeysHelp();

} // namespace mlir::ring

#endif // RINGC_TOOLS_RINGC_SPECSTRING_H
