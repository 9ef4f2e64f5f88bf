//===- TargetInfo.cpp - NVPTX specifics of the GPU code generator -*- C++ -*-===//
//
// This file implements the parsing of ringc's GPU target names and PTX
// versions and the `#nvvm.target` attribute built from them.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/TargetInfo.h"

#include "mlir/AsmParser/AsmParser.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::ring::gpu;

std::optional<TargetInfo> TargetInfo::get(StringRef target, StringRef ptx,
                                          std::string &error) {
  TargetInfo info;
  StringRef digits = target;
  if (!digits.consume_front("sm_")) {
    error = ("'" + target + "' is not a GPU target (expected sm_90a or sm_80)")
                .str();
    return std::nullopt;
  }
  digits.consume_back("a");
  unsigned sm = 0;
  if (digits.getAsInteger(10, sm) || sm < 80) {
    error = ("GPU target '" + target +
             "' is not supported: the kernels use mma.sync m16n8k16 with "
             "bf16 operands and cp.async, which need sm_80 or newer")
                .str();
    return std::nullopt;
  }
  info.chipName = target.str();
  info.sm = static_cast<int>(sm);
  // The lowest PTX ISA that knows the chip (PTX ISA manual, "Release
  // notes"); the NVPTX backend aborts on a lower one, so unknown chips and
  // `a` variants that do not exist are rejected here.
  static const std::pair<unsigned, int> kMinPtx[] = {
      {80, 70}, {86, 71}, {87, 74}, {89, 78}, {90, 78},
      {100, 86}, {101, 86}, {120, 87}};
  int minPtx = 0;
  for (auto [chip, version] : kMinPtx)
    if (chip == sm)
      minPtx = version;
  bool arch = target.ends_with("a");
  if (minPtx == 0 || (arch && sm < 90)) {
    error = ("GPU target '" + target +
             "' is not known to this ringc (known: sm_80, sm_86, sm_87, "
             "sm_89, sm_90, sm_90a, sm_100[a], sm_101[a], sm_120[a])")
                .str();
    return std::nullopt;
  }
  if (arch && sm == 90)
    minPtx = 80;
  info.ptx = minPtx;
  if (!ptx.empty()) {
    StringRef p = ptx;
    p.consume_front("+");
    p.consume_front("ptx");
    unsigned v = 0;
    if (p.getAsInteger(10, v) || v < static_cast<unsigned>(minPtx)) {
      error = ("PTX version '" + ptx + "' is invalid or too old for " +
               target + " (need ptx" + std::to_string(minPtx) +
               " or newer)")
                  .str();
      return std::nullopt;
    }
    info.ptx = static_cast<int>(v);
  }
  return info;
}

std::string TargetInfo::targetAttrText() const {
  return "#nvvm.target<O = 3, chip = \"" + chipName + "\", features = \"" +
         features() + "\">";
}

Attribute TargetInfo::targetAttr(MLIRContext *ctx) const {
  return parseAttribute(targetAttrText(), ctx);
}
