//===- TargetInfo.h - NVPTX specifics of the GPU code generator -*- C++ -*-===//
//
// This file declares TargetInfo: everything the GPU code generator needs to
// know about the NVPTX target (chip, PTX version, the warp-level MMA shape
// and the attribute that drives upstream `gpu-module-to-binary`), so that
// the kernel builders stay target-neutral (DESIGN.md section 7.6).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_TARGETINFO_H
#define RINGC_CODEGEN_GPU_TARGETINFO_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <string>

namespace mlir::ring::gpu {

/// The NVPTX target of one compilation: sm version and PTX ISA version are
/// options, never constants.
class TargetInfo {
public:
  /// Parses a ringc target name (`sm_90a`, `sm_80`, any `sm_NN[a]` with
  /// NN >= 80) with an optional PTX version (`ptx80`; empty picks the
  /// lowest version that supports the chip and every instruction used).
  static std::optional<TargetInfo> get(StringRef target, StringRef ptx,
                                       std::string &error);

  /// "sm_90a".
  StringRef chip() const { return chipName; }
  /// The SM version number (90 for sm_90a).
  int smVersion() const { return sm; }
  /// The PTX ISA version as an integer (80 for PTX 8.0).
  int ptxVersion() const { return ptx; }
  /// "+ptx80".
  std::string features() const { return "+ptx" + std::to_string(ptx); }
  /// `#nvvm.target<O = 3, chip = "...", features = "...">` in MLIR syntax.
  std::string targetAttrText() const;
  /// The same, as an attribute.
  Attribute targetAttr(MLIRContext *ctx) const;

  /// Warp-level MMA: m16n8k16 with bf16/f16 operands and f32 accumulators
  /// (sm_80 and newer).
  static constexpr int kMmaM = 16, kMmaN = 8, kMmaK = 16;
  static constexpr int kWarpSize = 32;
  /// Shared memory a CTA may use without an opt-in (bytes), and the most it
  /// may use with one.
  static constexpr int kDefaultSharedBytes = 48 * 1024;
  int maxSharedBytes() const { return sm >= 90 ? 227 * 1024 : 163 * 1024; }
  /// Registers per thread before spilling.
  static constexpr int kMaxRegisters = 255;

private:
  std::string chipName;
  int sm = 90;
  int ptx = 80;
};

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_TARGETINFO_H
