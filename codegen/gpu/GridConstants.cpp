//===- GridConstants.cpp - the ring-gpu-grid-constants pass -----*- C++ -*-===//
//
// This file implements the pass that turns the tensor-map parameters of the
// lowered wgmma kernels into 128-byte `__grid_constant__` parameters
// (Passes.td: RingGPUGridConstantsPass).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::ring::gpu {
#define GEN_PASS_DEF_RINGGPUGRIDCONSTANTSPASS
#include "codegen/gpu/Passes.h.inc"
} // namespace mlir::ring::gpu

using namespace mlir;
using namespace mlir::ring::gpu;

namespace {
struct GridConstantsPass
    : public mlir::ring::gpu::impl::RingGPUGridConstantsPassBase<
          GridConstantsPass> {
  void runOnOperation() override {
    bool ok = true;
    getOperation()->walk([&](LLVM::LLVMFuncOp fn) {
      auto args = fn->getAttrOfType<DenseI32ArrayAttr>(kGridConstantArgsAttr);
      if (!args)
        return;
      MLIRContext *ctx = fn.getContext();
      Builder b(ctx);
      Type map = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), 128);
      for (int32_t i : args.asArrayRef()) {
        if (i < 0 || i >= static_cast<int32_t>(fn.getNumArguments()) ||
            !isa<LLVM::LLVMPointerType>(fn.getArgumentTypes()[i])) {
          fn.emitError("ringc.grid_constant_args: parameter ")
              << i << " is not a pointer parameter of the kernel";
          ok = false;
          return;
        }
        fn.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(),
                      TypeAttr::get(map));
        fn.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                      b.getI64IntegerAttr(64));
        fn.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                      UnitAttr::get(ctx));
      }
      fn->removeAttr(kGridConstantArgsAttr);
    });
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
