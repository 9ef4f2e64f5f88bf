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

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

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
  /// ranks=N: the compiler chooses the grid (--explain / --auto); 0 when the
  /// grid keys give it.
  int64_t ranks = 0;
  bool causal = false;
  /// Also compile the backward pass (NAME_attention_backward).
  bool grad = false;
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

/// The spec module, as MLIR text, that the driver then parses and verifies.
std::string renderSpecModule(const AttentionSpec &spec,
                             llvm::StringRef funcName);

/// The help text describing every key and its default.
llvm::StringRef specKeysHelp();

} // namespace mlir::ring

#endif // RINGC_TOOLS_RINGC_SPECSTRING_H
