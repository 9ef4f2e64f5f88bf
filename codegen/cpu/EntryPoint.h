//===- EntryPoint.h - the C-ABI entry of a CPU artifact ---------*- C++ -*-===//
//
// This file declares the builder of `NAME_attention`, the entry point of a
// ringc CPU artifact (ringrt.h, ringrt_attention_entry).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_ENTRYPOINT_H
#define RINGC_CODEGEN_CPU_ENTRYPOINT_H

#include "codegen/cpu/KernelBuilder.h"
#include "dialect/AttentionPlan.h"

namespace mlir::ring::cpu {

struct CpuVariant;

/// The per-rank function of one ISA variant (CpuVariants.h).
struct CpuVariantFunction {
  const CpuVariant *variant;
  func::FuncOp fn;
};

/// The entry-point name of the per-rank function `name`: NAME_attention.
std::string entryPointName(StringRef name);
/// The C entry of the backward pass of the per-rank function `name`:
/// `name`_attention_backward (q, k, v, o, lse, do, dq, dk, dv).
std::string backwardEntryPointName(StringRef name);
/// The C entry of a whole layer (d_model): `name`_layer (x, wq, wk, wv, wo,
/// [bq, bk, bv, bo], y, lse).
std::string layerEntryPointName(StringRef name);

/// The name of the function that returns the workspace size:
/// NAME_workspace_bytes.
std::string workspaceBytesName(StringRef name);
/// The artifact descriptor of the per-rank function `name`:
/// NAME_artifact_info, a ringrt_artifact_info (ringrt/codegen_abi.h).
std::string artifactInfoName(StringRef name);

/// Adds, after `perRank` (already lowered: its arguments are ctx, status,
/// workspace, q, k, v, o, lse, and it records its workspace size in
/// kWorkspaceBytesAttr, Workspace.h), the public functions
///   func.func @NAME_workspace_bytes() -> i64
///   func.func @NAME_attention(%ctx, %q, %k, %v, %o, %lse, %workspace,
///                             %stream : !llvm.ptr) -> i32
///   func.func @NAME_attention_sync(same) -> i32
/// The entry checks every ringrt_tensor with ringrt_check_tensor (name,
/// dtype, rank, the plan's local shape, element alignment) and returns the
/// first failing status; otherwise it allocates the status cell, resolves
/// the workspace with ringrt_cg_workspace (null: the context's), begins the
/// call on `stream` (ringrt_cg_begin; null: the context's), calls `perRank`
/// on the data pointers, ends the call without waiting (ringrt_cg_end) and
/// returns the cell. NAME_attention_sync calls it, then waits for the
/// stream (ringrt_cg_stream_wait). Fails (with a diagnostic) if
/// the function's buffers disagree with the plan's local shapes.
/// With a non-empty `hostFeatures` (comma-separated LLVM x86 feature
/// names), the entry first calls ringrt_cg_check_cpu on them and returns its
/// status if the running CPU lacks one.
/// With two or more `variants` (best first; `perRank` among them), the
/// entry calls the one ringrt_cg_select_cpu_variant picks instead (it
/// picks before ringrt_cg_begin, so that a failed selection returns with no
/// call begun), and NAME_workspace_bytes is the largest of their workspaces.
LogicalResult emitEntryPoint(func::FuncOp perRank, const AttentionPlan &plan,
                             KernelCache &cache, StringRef hostFeatures = "",
                             ArrayRef<CpuVariantFunction> variants = {});

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_ENTRYPOINT_H
