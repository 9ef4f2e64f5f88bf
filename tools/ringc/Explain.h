//===- Explain.h - choosing and explaining a plan --------------*- C++ -*-===//
//
// This file declares the plan chooser behind `ringc --explain` and
// `--auto`: it enumerates every grid ring × a2a × head_groups × dim_slices
// of a rank count (and the causal layouts), rejects the ones the spec rules
// or the cluster forbid (with the dialect's own diagnostic as the reason),
// predicts the rest with the cost model (passes/CostModel.h) and picks the
// fastest plan ringc can compile.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_TOOLS_RINGC_EXPLAIN_H
#define RINGC_TOOLS_RINGC_EXPLAIN_H

#include "passes/CostModel.h"
#include "tools/ringc/SpecString.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace mlir::ring {

struct ExplainOptions {
  ClusterModel cluster;
  std::string target;
  bool overlap = true;
  bool fuseMerge = true;
  /// Print the table and the CHOSEN line.
  bool print = false;
};

/// Chooses the plan for `spec`'s problem over `ranks` ranks. With `given`
/// (the grid of an .mlir input), that plan is marked in the table. Prints to
/// `os` when options.print; the last line is
/// `ringc: CHOSEN <plan> predicted_ms=<x>`. Fails with `error` when no
/// candidate is valid.
FailureOr<PlanShape> choosePlan(MLIRContext &ctx, const AttentionSpec &spec,
                                int64_t ranks, const ExplainOptions &options,
                                std::optional<PlanShape> given,
                                llvm::raw_ostream &os, std::string &error);

} // namespace mlir::ring

#endif // RINGC_TOOLS_RINGC_EXPLAIN_H
