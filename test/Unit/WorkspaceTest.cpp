//===- WorkspaceTest.cpp - tests of the workspace assignment -*- C++ -*-===//
//
// This file tests assignWorkspace (codegen/Workspace.h): whole-call buffers
// become views at aligned offsets of the workspace argument, and a buffer
// it cannot place (no fixed element width, a dynamic shape) is refused with
// a diagnostic naming its type instead of a crash.
//
//===----------------------------------------------------------------------===//

#include "codegen/Workspace.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

using namespace mlir;

namespace {
/// Parses `body` as the entry block of `func.func @f(%ws: !llvm.ptr)`,
/// runs assignWorkspace on it, and returns its result; `diagnostic`
/// receives the error message, if any.
FailureOr<int64_t> assign(StringRef body, std::string &diagnostic) {
  MLIRContext ctx;
  ctx.loadDialect<arith::ArithDialect, func::FuncDialect, memref::MemRefDialect,
                  LLVM::LLVMDialect>();
  std::string source =
      ("func.func @f(%ws: !llvm.ptr) {\n" + body + "\n  return\n}").str();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  EXPECT_TRUE(module);
  if (!module)
    return failure();
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    diagnostic = d.str();
    return success();
  });
  auto fn = *module->getOps<func::FuncOp>().begin();
  return ring::assignWorkspace(fn, fn.getArgument(0));
}

TEST(Workspace, PlacesBuffersAtAlignedOffsets) {
  std::string diagnostic;
  FailureOr<int64_t> bytes =
      assign("  %a = memref.alloc() : memref<3xf32>\n"
             "  %b = memref.alloc() : memref<300xbf16>\n"
             "  memref.dealloc %b : memref<300xbf16>",
             diagnostic);
  ASSERT_TRUE(succeeded(bytes)) << diagnostic;
  // 12 bytes round up to one 256-byte slot, 600 bytes to three.
  EXPECT_EQ(*bytes, 4 * ring::kWorkspaceAlignment);
}

TEST(Workspace, RefusesIndexElements) {
  std::string diagnostic;
  FailureOr<int64_t> bytes =
      assign("  %a = memref.alloc() : memref<8xindex>", diagnostic);
  EXPECT_TRUE(failed(bytes));
  EXPECT_NE(diagnostic.find("fixed width"), std::string::npos) << diagnostic;
  EXPECT_NE(diagnostic.find("memref<8xindex>"), std::string::npos)
      << diagnostic;
}

TEST(Workspace, RefusesDynamicShapes) {
  std::string diagnostic;
  FailureOr<int64_t> bytes = assign("  %n = arith.constant 4 : index\n"
                                    "  %a = memref.alloc(%n) : memref<?xf32>",
                                    diagnostic);
  EXPECT_TRUE(failed(bytes));
  EXPECT_NE(diagnostic.find("static shape"), std::string::npos) << diagnostic;
}
} // namespace
