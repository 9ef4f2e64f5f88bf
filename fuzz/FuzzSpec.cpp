//===- FuzzSpec.cpp - libFuzzer target: the --spec form ---------*- C++ -*-===//
//
// This file implements the fuzz target of `ringc --spec "K=V,..."`: the
// parser, the spec module built from it, and the pipeline to the
// overlapped phase, as ringc runs them.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzCommon.h"
#include "tools/ringc/SpecString.h"

#include "llvm/Support/SourceMgr.h"

#include <cstddef>
#include <cstdint>

using namespace mlir;
using namespace mlir::ring;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto spec = parseSpecString(text);
  if (!spec) {
    llvm::consumeError(spec.takeError());
    return 0;
  }
  auto ctx = fuzz::makeContext();
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module =
      parseSpecModule(*spec, "attn", sourceMgr, ctx.get());
  if (module)
    fuzz::runPipeline(*module);
  return 0;
}
