//===- Workspace.h - per-call scratch buffers of a per-rank function -*- C++ -*-===//
//
// This file declares the workspace assignment shared by the CPU and GPU
// targets: the scratch buffers a per-rank function allocates for one call
// (the fp32 partial O/LSE, the K/V ping-pong buffers, score buffers) become
// views at fixed offsets of one caller- or context-owned workspace, so that
// a call allocates and frees nothing (runtime/include/ringrt/codegen_abi.h,
// ringrt_cg_workspace).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_WORKSPACE_H
#define RINGC_CODEGEN_WORKSPACE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::ring {

/// Alignment of the workspace and of every buffer in it (bytes): a CUDA
/// allocation's alignment, and more than any vector load needs.
constexpr int64_t kWorkspaceAlignment = 256;

/// The function attribute (i64) that records the workspace size in bytes.
constexpr StringLiteral kWorkspaceBytesAttr = "ring.workspace_bytes";

/// A dense, row-major memref of static `type` over the raw pointer `data`
/// (its LLVM descriptor cast to the memref type; finalize-memref-to-llvm
/// and reconcile-unrealized-casts fold the cast away).
Value denseMemrefOver(OpBuilder &b, Location loc, Value data, MemRefType type);

/// Replaces every memref.alloc of `fn`'s entry block that is deallocated,
/// if at all, in the entry block (a buffer that lives for the whole call;
/// its deallocs are erased) by a
/// view at a kWorkspaceAlignment-aligned offset of `workspace` (an
/// !llvm.ptr argument of `fn`), and records the total size in
/// kWorkspaceBytesAttr. Returns that size, or failure (with a diagnostic)
/// for a buffer with a dynamic shape, a non-identity layout or an element
/// type without a fixed width (index).
FailureOr<int64_t> assignWorkspace(func::FuncOp fn, Value workspace);

} // namespace mlir::ring

#endif // RINGC_CODEGEN_WORKSPACE_H
