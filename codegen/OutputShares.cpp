//===- OutputShares.cpp - the reduce-scatter's shares in code ---*- C++ -*-===//
//
// This file implements outputSharesAddress (OutputShares.h).
//
//===----------------------------------------------------------------------===//

#include "codegen/OutputShares.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::ring;

Value mlir::ring::outputSharesAddress(OpBuilder &b, Location loc,
                                      OutputReduceScatterOp op) {
  auto module = op->getParentOfType<ModuleOp>();
  ArrayRef<int64_t> shares = op.getShares();
  std::string name = "ringc_output_shares";
  for (int64_t c : shares)
    name += "_" + std::to_string(c);
  MLIRContext *ctx = b.getContext();
  auto global = module.lookupSymbol<LLVM::GlobalOp>(name);
  if (!global) {
    OpBuilder gb(ctx);
    gb.setInsertionPointToStart(module.getBody());
    auto i64 = IntegerType::get(ctx, 64);
    auto type = LLVM::LLVMArrayType::get(i64, shares.size());
    auto value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(shares.size())}, i64),
        shares);
    global = LLVM::GlobalOp::create(gb, loc, type, /*isConstant=*/true,
                                    LLVM::Linkage::Internal, name, value);
  }
  return LLVM::AddressOfOp::create(b, loc, global);
}
