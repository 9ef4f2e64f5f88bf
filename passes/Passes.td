//===- Passes.td - ringc passes ----------------------------*- tablegen -*-===//
//
// This file declares every pass of the ringc pipeline (DESIGN.md section 2).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_TD
#define RINGC_PASSES_TD

include "mlir/Pass/PassBase.td"

def RingVerifyShardingsPass : Pass<"ring-verify-shardings", "ModuleOp"> {
  let summary = "Check that every ring.attention spec can be compiled";
  let description = [{
    Derives the plan of every `ring.attention` from the upstream `shard`
    annotations of its operands (which grid axis is the ring, the head-group
    and the dim-slice axis) and reports, at the op, every spec that ringc
    cannot compile: a sequence length the layout cannot split, heads that do
    not divide into head groups, a head_dim that does not divide into dim
    slices, an unknown grid, a grid axis used for two dimensions, Q, K and V
    split differently, batch split, or an unused grid axis of size > 1.

    Example:

    ```mlir
    shard.grid @g(shape = 3)
    ...
    // error: sequence length 1000 is not divisible by the ring size 3 ...
    %o, %lse = ring.attention %q, %k, %v : ...
    ```

    With `emit-plan-remarks`, it also emits a remark with the derived plan.
  }];
  let options = [
    Option<"emitPlanRemarks", "emit-plan-remarks", "bool", "false",
           "Emit a remark describing the derived plan of every attention">
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

#endif // RINGC_PASSES_TD
