//===- FuzzPipeline.cpp - libFuzzer target: MLIR through the passes -*- C++ -*-===//
//
// This file implements the fuzz target of the ring passes on MLIR text:
// parse and verify (which is where the dialect's verifiers must stop bad
// IR), then verify-shardings, partition, schedule, overlap and
// verify-schedule from whatever phase the input is at.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzCommon.h"

#include "mlir/Parser/Parser.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace mlir;
using namespace mlir::ring;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto ctx = fuzz::makeContext();
  // A NUL-terminated copy: MLIR's lexer relies on the terminator that every
  // buffer ringc and ring-opt parse has (llvm::MemoryBuffer), and libFuzzer's
  // data has none, so parsing it in place reads past the end.
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, ctx.get());
  if (module)
    fuzz::runPipeline(*module);
  return 0;
}
