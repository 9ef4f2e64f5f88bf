//===- WgmmaFragments.h - warpgroup MMA building blocks ---------*- C++ -*-===//
//
// This file declares the pieces the sm_90a wgmma kernels share (the forward
// block-attention kernel, WgmmaAttentionKernel.cpp, and the backward's dQ
// and dK/dV kernels, AttentionBackwardKernel.cpp): 128-byte-swizzle
// shared-memory matrix descriptors, the two wgmma.mma_async GEMM forms as
// one inline-PTX statement each (fence to wait), and the packing of an fp32
// accumulator into A fragments.
//
// Shared tiles are sequences of 64-column panels of rows x 128 bytes, 1024-
// byte aligned; the 128-byte swizzle permutes the eight 16-byte chunks of
// row r by r mod 8 on absolute address bits. The accumulator of
// `wgmma m64nNk16` holds N/2 f32 per thread in the m16n8 layout of
// MmaFragments.h (n8 block j, element e: row 16·warp + g + 8·(e >= 2),
// column 8j + 2t + (e & 1)), which is also the A-fragment layout of m64k16,
// so a result feeds the next GEMM's A without shuffles.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_WGMMAFRAGMENTS_H
#define RINGC_CODEGEN_GPU_WGMMAFRAGMENTS_H

#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace mlir::ring::gpu {

/// Emits the wgmma operations of one kernel into `e`.
class WgmmaFragments {
public:
  /// `halfTy` is "bf16" or "f16"; `smemAddr` the i32 shared-window address
  /// of the kernel's 1024-byte aligned shared-memory base.
  WgmmaFragments(MlirEmitter &e, std::string halfTy, std::string smemAddr)
      : e(e), halfTy(std::move(halfTy)), smemAddr(std::move(smemAddr)) {}

  /// A 128-byte-swizzle descriptor (i64) of the shared tile at byte offset
  /// `off` (i32, from the aligned base) with leading/stride byte offsets
  /// `lbo`/`sbo`.
  std::string descriptor(const std::string &off, int64_t lbo, int64_t sbo);
  /// Descriptor `d` advanced by `bytes64` (i64) bytes.
  std::string descAdd(const std::string &d, const std::string &bytes64);

  /// The descriptors of the k16 steps of an MN-major B operand over `kRows`
  /// rows (the K dimension) of a tile whose N dimension is the contiguous
  /// one, in 64-column panels of `panelRows` rows: LBO panelRows · 128
  /// (between panels), SBO 1024 (8 K-rows), a step moves 16 rows.
  std::vector<std::string> mnMajorSteps(const std::string &off, int64_t kRows,
                                        int64_t panelRows);

  /// D[64 x n] = A · Bᵀ over the k16 steps `ad`/`bd` (K-major A and B
  /// descriptors), as one inline-PTX statement: wgmma.fence, the
  /// `wgmma.mma_async m64n<n>k16` chain (scale-d 0 on the first step, so
  /// nothing is zeroed), commit and wait 0. Returns the n/2 accumulators.
  ///
  /// Why not upstream nvvm.wgmma.mma_async (+ fence/commit/wait ops): its
  /// wait op has no data dependence on the accumulators, so LLVM may
  /// schedule their uses (and register copies of them) between the
  /// asynchronous wgmma and the wait, which is wrong code or makes ptxas
  /// serialize the chain (C7515); one statement from fence to wait cannot be
  /// split. Its PTX also names its predicate `p`, which our PTX emulator's
  /// parser (runtime/emu) does not accept as a register name.
  std::vector<std::string> ssGemm(int64_t n, const std::vector<std::string> &ad,
                                  const std::vector<std::string> &bd);
  /// The same GEMM from one A and one B base descriptor (i64), the k16
  /// steps `aSteps`/`bSteps` (bytes, see kMajorStepBytes) added inside the
  /// statement: two 64-bit registers instead of one per step and operand,
  /// which is what the register-bound backward kernels need.
  std::vector<std::string> ssGemmSteps(int64_t n, const std::string &a,
                                       const std::vector<int64_t> &aSteps,
                                       const std::string &b,
                                       const std::vector<int64_t> &bSteps);
  /// acc[64 x n] += A · B in the same form, both operands from shared
  /// memory: A K-major, B MN-major (imm-trans-b = 1, its k16 steps from
  /// mnMajorSteps' layout) or K-major; the accumulators are read in place
  /// (tied), so a K loop carries them from one statement to the next (the
  /// projection GEMMs, GemmKernel.cpp).
  std::vector<std::string>
  ssGemmStepsAcc(const std::vector<std::string> &acc, const std::string &a,
                 const std::vector<int64_t> &aSteps, const std::string &b,
                 const std::vector<int64_t> &bSteps, bool bMnMajor);
  /// The byte offsets of the k16 steps over a `kDim`-wide K-major tile
  /// (rows of `kDim` contiguous elements in 64-column panels of `panelRows`
  /// rows, SBO 1024 between 8-row groups): a step moves 32 bytes within a
  /// 128-byte row, a panel moves panelRows · 128 bytes.
  static std::vector<int64_t> kMajorStepBytes(int64_t kDim, int64_t panelRows);
  /// acc[64 x n] += A · B, A from registers (4 bf16x2/f16x2 per k16 step,
  /// see packA) and B from MN-major descriptors (imm-trans-b = 1), as one
  /// inline-PTX statement (upstream nvvm.wgmma.mma_async takes A only from
  /// a descriptor; see ssGemm for why one statement).
  std::vector<std::string> rsGemm(const std::vector<std::string> &acc,
                                  const std::vector<std::string> &a,
                                  const std::vector<std::string> &descs);
  /// The A fragments (4 registers per k16 step) of the m64 x 16·X.size()/2
  /// operand held as fp32 accumulator fragments `X` (n8 blocks), rounded to
  /// nearest even by `frag`.
  static std::vector<std::string>
  packA(MmaFragments &frag, const std::vector<std::array<std::string, 4>> &X);

  /// Aligns the kernel's dynamic shared memory `raw` (the @ringc_smem
  /// pointer) up to 1024 bytes, as the 128-byte swizzle works on absolute
  /// address bits (sharedBytes() of each wgmma kernel reserves 1024 bytes
  /// of slack): sets `smem` to the aligned pointer and returns its i32
  /// shared-window address (the `smemAddr` of the constructor).
  static std::string alignedSharedBase(MlirEmitter &e, const std::string &raw,
                                       std::string &smem);

  /// `!llvm.struct<(f32, ...)>` with n members.
  static std::string structTy(int64_t n);
  /// `{$0, ..., $(n-1)}`.
  static std::string regList(size_t n);
  /// One inline-PTX statement with `n` f32 results ("=f", $0..$n-1); when
  /// `tied` holds the n values, they are read in place (tied inputs
  /// $n..$2n-1); then `regs` (i32, "r") and `descs` (i64, "l"). Returns
  /// the results.
  std::vector<std::string> f32Asm(const std::string &ptx, size_t n,
                                  const std::vector<std::string> &tied,
                                  const std::vector<std::string> &regs,
                                  const std::vector<std::string> &descs);

private:
  /// The PTX of ssGemm/ssGemmSteps: fence, k chained m64n<N>k16 steps
  /// (`step(kk)` gives the instructions before step kk and its A, B
  /// descriptor operands; `decls` extra register declarations), commit and
  /// wait 0. The first step overwrites D (scale-d 0) unless `accumulate`;
  /// `bMnMajor` sets imm-trans-b.
  std::string
  ssChain(int64_t N, size_t k, const std::string &decls,
          const std::function<std::pair<std::string, std::string>(size_t)>
              &step,
          bool accumulate = false, bool bMnMajor = false);
  /// ssGemmSteps and ssGemmStepsAcc (`tied` empty: D is overwritten).
  std::vector<std::string>
  ssSteps(int64_t N, const std::vector<std::string> &tied, const std::string &a,
          const std::vector<int64_t> &aSteps, const std::string &b,
          const std::vector<int64_t> &bSteps, bool bMnMajor);

  MlirEmitter &e;
  const std::string halfTy, smemAddr;
};

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_WGMMAFRAGMENTS_H
