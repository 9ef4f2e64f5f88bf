//===- Workspace.cpp - per-call scratch buffers of a per-rank function -*- C++ -*-===//
//
// This file implements the workspace assignment (Workspace.h). Offsets are
// assigned in program order without reuse: the buffers of a per-rank
// function are few (a handful per stage pair) and all live across the ring
// loop, so packing by lifetime would save little.
//
//===----------------------------------------------------------------------===//

#include "codegen/Workspace.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::ring;

Value mlir::ring::denseMemrefOver(OpBuilder &b, Location loc, Value data,
                                  MemRefType type) {
  MLIRContext *ctx = b.getContext();
  Type ptrTy = LLVM::LLVMPointerType::get(ctx), i64Ty = b.getI64Type();
  auto i64 = [&](int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64Ty, b.getI64IntegerAttr(v));
  };
  int64_t rank = type.getRank();
  SmallVector<Type> fields = {ptrTy, ptrTy, i64Ty};
  if (rank > 0) {
    fields.push_back(LLVM::LLVMArrayType::get(i64Ty, rank));
    fields.push_back(LLVM::LLVMArrayType::get(i64Ty, rank));
  }
  auto descTy = LLVM::LLVMStructType::getLiteral(ctx, fields);
  Value desc = LLVM::PoisonOp::create(b, loc, descTy);
  desc = LLVM::InsertValueOp::create(b, loc, desc, data, ArrayRef<int64_t>{0});
  desc = LLVM::InsertValueOp::create(b, loc, desc, data, ArrayRef<int64_t>{1});
  desc = LLVM::InsertValueOp::create(b, loc, desc, i64(0), ArrayRef<int64_t>{2});
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc = LLVM::InsertValueOp::create(b, loc, desc, i64(type.getDimSize(d)),
                                       ArrayRef<int64_t>{3, d});
    desc = LLVM::InsertValueOp::create(b, loc, desc, i64(stride),
                                       ArrayRef<int64_t>{4, d});
    stride *= type.getDimSize(d);
  }
  return UnrealizedConversionCastOp::create(b, loc, TypeRange{type}, desc)
      .getResult(0);
}

FailureOr<int64_t> mlir::ring::assignWorkspace(func::FuncOp fn,
                                               Value workspace) {
  // Buffers that live for the whole call: allocated in the entry block and
  // freed, if at all, in the entry block too (ring-schedule frees them
  // before the return). Their deallocs go with them.
  Block &entry = fn.getBody().front();
  SmallVector<memref::AllocOp> allocs;
  for (auto alloc : entry.getOps<memref::AllocOp>())
    if (llvm::all_of(alloc->getUsers(), [&](Operation *u) {
          return !isa<memref::DeallocOp>(u) || u->getBlock() == &entry;
        }))
      allocs.push_back(alloc);
  int64_t offset = 0;
  Type i8 = IntegerType::get(fn.getContext(), 8);
  Type ptrTy = LLVM::LLVMPointerType::get(fn.getContext());
  for (memref::AllocOp alloc : allocs) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return alloc.emitError("a per-call buffer must have a static shape and "
                             "the identity layout to live in the workspace; "
                             "got ")
             << type;
    // index (and other types without a fixed width) has no size until the
    // data layout is chosen; a workspace offset must be known now.
    if (!type.getElementType().isIntOrFloat())
      return alloc.emitError("a per-call buffer's element type must be an "
                             "integer or float type of a fixed width to "
                             "live in the workspace (e.g. i64 instead of "
                             "index); got ")
             << type;
    int64_t bytes =
        type.getNumElements() *
        static_cast<int64_t>(llvm::divideCeil(type.getElementTypeBitWidth(), 8));
    for (Operation *u : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(u))
        u->erase();
    OpBuilder b(alloc);
    Location loc = alloc.getLoc();
    Value data = workspace;
    if (offset) {
      // An i64 index: a workspace may exceed 2 GiB (GEPArg constants are
      // i32).
      Value at = LLVM::ConstantOp::create(b, loc, b.getI64Type(),
                                          b.getI64IntegerAttr(offset));
      data = LLVM::GEPOp::create(b, loc, ptrTy, i8, workspace,
                                 ArrayRef<LLVM::GEPArg>{at});
    }
    alloc.getResult().replaceAllUsesWith(
        denseMemrefOver(b, loc, data, type));
    alloc->erase();
    offset += llvm::alignTo(std::max<int64_t>(bytes, 1), kWorkspaceAlignment);
  }
  fn->setAttr(kWorkspaceBytesAttr,
              IntegerAttr::get(IntegerType::get(fn.getContext(), 64), offset));
  return offset;
}
