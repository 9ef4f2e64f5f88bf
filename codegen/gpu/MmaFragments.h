//===- MmaFragments.h - warp-level MMA building blocks ----------*- C++ -*-===//
//
// This file declares the pieces the mma.sync kernels share: global token
// positions of the ring layouts, cp.async row copies into padded shared
// memory, ldmatrix / mma.sync m16n8k16 fragments with bf16/f16 operands and
// f32 accumulators, bf16x2/f16x2 packing and warp shuffles. The block-
// attention kernel (AttentionKernel.cpp) and the dim-slice score kernel
// (SliceKernels.cpp) are written with them.
//
// Per-warp register fragments follow the PTX ISA's m16n8k16 layout: lane l
// has g = l / 4, t = l % 4; accumulator elements c0,c1 are row g, columns
// 2t, 2t+1 and c2,c3 are row g + 8.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_MMAFRAGMENTS_H
#define RINGC_CODEGEN_GPU_MMAFRAGMENTS_H

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "dialect/RingOps.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace mlir::ring::gpu {

/// Bytes of one padded shared-memory row of `rowElems` 16-bit elements (16
/// bytes of padding against ldmatrix bank conflicts).
inline int64_t paddedRowBytes(int64_t rowElems) { return rowElems * 2 + 16; }

/// Global position (i32) of local row `i` of a block owned by `owner` whose
/// buffer holds `len` rows, in a ring of `ring` ranks (the layout formulas
/// of RingOps.td).
std::string globalPosition(MlirEmitter &e, Balance layout, const std::string &i,
                           const std::string &owner, const std::string &len,
                           const std::string &ring);

struct KernelWindow;

/// The window's test for key position `kp` of query position `qp` (i32):
/// an i1 value, or "" when the window admits every key (none). Shared by
/// every GPU kernel that masks (mma.sync, wgmma, dim-slice softmax).
std::string windowAdmits(MlirEmitter &e, const KernelWindow &w,
                         const std::string &qp, const std::string &kp);

/// `a` and `b` (i1 values, "" for true).
std::string andI1(MlirEmitter &e, const std::string &a, const std::string &b);

/// As globalPosition, for a layout with padded parts: the position of the
/// part's formula (padding rows continue it, so positions still grow with
/// the local index and causal tile skipping stays a prefix), and in
/// `*valid` an i1 that is false on padding rows.
std::string paddedPosition(MlirEmitter &e, Balance layout, const std::string &i,
                           const std::string &owner, const std::string &len,
                           const SeqPadding &pad, std::string *valid);

/// The layout's position (i32) of local row `i` of `owner`'s buffer of
/// `len` rows: globalPosition, or with padded parts paddedPosition (padding
/// rows continue the part's formula, so positions grow with i: causal tile
/// skipping stays a prefix and documentTileRange can bisect).
std::string partPosition(MlirEmitter &e, Balance layout, const std::string &i,
                         const std::string &owner, const std::string &len,
                         const std::string &ring, const SeqPadding &pad);

/// The i32 position of local row `i` that the masks compare: the layout's
/// position (globalPosition), and with padded parts the sentinel of
/// Visibility.h on padding rows (paddingKeyPosition for a key, `isKey`,
/// else paddingQueryPosition of pad.span), which the causal test and the
/// KernelWindow of a padded variant never admit.
std::string maskPosition(MlirEmitter &e, Balance layout, const std::string &i,
                         const std::string &owner, const std::string &len,
                         const std::string &ring, const SeqPadding &pad,
                         bool isKey);

/// Opens a kernel body: thread, block and head coordinates as i32 (%tid,
/// %bx, %h, %b) and the lane / warp split.
void emitBlockCoordinates(MlirEmitter &e, std::string &lane,
                          std::string &warp);

/// Emits an scf.for over t in [0, n) (i32) that counts the t for which
/// `pred(t)` (an i1 emitted in the loop body) holds; returns the count.
/// The causal tile skipping uses it: the visible (or hidden) tiles of a
/// block are a prefix, since positions grow with the local index.
std::string emitCount(MlirEmitter &e, const std::string &n,
                      const std::function<std::string(const std::string &)> &pred);

/// The same count for a `pred` that holds on a prefix of [0, n) (n >= 0)
/// and fails after it, by bisection: an scf.while of about log2(n) + 1
/// steps, each emitting `pred` once, instead of n. The run-time document
/// tile range uses it: a long key block has thousands of tiles and a
/// short document reaches a few of them.
std::string emitPrefixCount(
    MlirEmitter &e, const std::string &n,
    const std::function<std::string(const std::string &)> &pred);

/// Emits the fragment operations of one kernel into `e`.
class MmaFragments {
public:
  /// `halfTy` is "bf16" or "f16"; `smem` the !llvm.ptr<3> of the dynamic
  /// shared memory; `tid` the i32 thread index; `threads` the CTA size.
  MmaFragments(MlirEmitter &e, std::string halfTy, std::string smem,
               std::string tid, int64_t threads)
      : e(e), halfTy(std::move(halfTy)), smem(std::move(smem)),
        tid(std::move(tid)), threads(threads) {}

  /// cp.async of `rows` rows of `rowElems` 16-bit elements starting at
  /// local row `r0` (clamped to `last`) of the matrix at element offset
  /// `base` (i64) of `gptr` (!llvm.ptr<1>) into shared memory at byte
  /// offset `soff` (i32), `rowBytes` per shared row. cp.async moves 4, 8
  /// or 16 bytes, the widest that keeps every global row aligned; rows of
  /// an odd `rowElems` are copied through registers instead (copyOddRows).
  /// With `smemElems` > rowElems, each shared row holds smemElems elements
  /// and those past rowElems are zero (a head dim padded to the MMA's
  /// k16); smemElems must then be a multiple of the piece (of 8 for odd
  /// rows).
  void copyRows(int64_t rows, int64_t rowElems, int64_t rowBytes,
                const std::string &gptr, const std::string &base,
                const std::string &r0, const std::string &last,
                const std::string &soff, int64_t smemElems = 0);
  /// The same copy into a tile of the wgmma kernels (WgmmaFragments.h):
  /// 64-column panels of `rows` x 128 bytes with the 128-byte swizzle, the
  /// tile at byte offset `soff` (i32) from a 1024-byte aligned `smem`.
  void copyRowsSwizzled(int64_t rows, int64_t rowElems,
                        const std::string &gptr, const std::string &base,
                        const std::string &r0, const std::string &last,
                        const std::string &soff);
  /// The byte offset of 16-byte chunk `col` (i32) of row `r` (i32) in such
  /// a tile of `rows` rows at byte offset `soff` (i32): panel col / 8, then
  /// chunk (col mod 8) xor (r mod 8) of the row's 128 bytes.
  std::string swizzledChunkOffset(const std::string &soff, const std::string &r,
                                  const std::string &col, int64_t rows);
  /// Packs two f32 into a bf16x2/f16x2 register (round to nearest even).
  std::string pack(const std::string &lo, const std::string &hi);
  /// One 16-bit element at `p` (!llvm.ptr<1>, 2-byte aligned), zero-
  /// extended to i32: the register copies of rows that cp.async cannot
  /// copy (copyOddRows, the element-wise GEMM tiles).
  std::string loadHalfBits(const std::string &p);
  /// The same element at `offset` bytes past `p` where `valid` (i1), else
  /// 0: one predicated ld.global, so no address outside the matrix is read
  /// and the warp does not branch (the element-wise GEMM tiles).
  std::string loadHalfBitsIf(const std::string &p, int64_t offset,
                             const std::string &valid);
  /// A 16-byte chunk (vector<4xi32>) of eight 16-bit elements; element(i)
  /// emits element i (i in 0..7) as an i32 holding it zero-extended.
  std::string packChunk(const std::function<std::string(int64_t)> &element);
  /// 4-register ldmatrix at shared byte offset `off`.
  std::array<std::string, 4> ldmatrix(const std::string &off, bool trans);
  /// c += a * b on one m16n8k16 tile.
  std::array<std::string, 4> mma(const std::array<std::string, 4> &a,
                                 const std::string &b0, const std::string &b1,
                                 const std::array<std::string, 4> &c);
  /// Butterfly shuffle of an f32 across the warp.
  std::string shflXor(const std::string &v, int mask);

  /// Lane byte offsets of the ldmatrix x4 loads, for shared rows of
  /// `rowBytes`: A (row-major, 16 rows from `row0`), B not transposed (K:
  /// 16 keys x 16 columns as two n8 tiles) and B transposed (V).
  std::string aLaneOffset(const std::string &lane, const std::string &row0,
                          int64_t rowBytes);
  std::string bLaneOffset(const std::string &lane, int64_t rowBytes);
  std::string bTransLaneOffset(const std::string &lane, int64_t rowBytes);

private:
  /// The cp.async loop of both copies, in the widest pieces (16, 8 or 4
  /// bytes) that keep every global row aligned; shared rows of `smemElems`
  /// (>= rowElems; 0: rowElems) elements, zero-filled past rowElems.
  /// `dstOffset(r, piece, pieceBytes)` (i32 tile row and piece of the row)
  /// gives the shared byte offset.
  void copyChunks(int64_t rows, int64_t rowElems, int64_t smemElems,
                  const std::string &gptr, const std::string &base,
                  const std::string &r0, const std::string &last,
                  const std::function<std::string(const std::string &,
                                                  const std::string &, int64_t)>
                      &dstOffset);

  /// Emits the work of a tile of `rows` x `perRow` pieces spread over the
  /// CTA's threads (piece tid + k·threads, the last round guarded):
  /// body(r, col, grow) with the tile row r, the piece col of the row and
  /// the global row r0 + r clamped to `last` (i32).
  void forEachPiece(int64_t rows, int64_t perRow, const std::string &r0,
                    const std::string &last,
                    const std::function<void(const std::string &,
                                             const std::string &,
                                             const std::string &)> &body);
  /// copyChunks for rows of an odd number of elements, which cp.async
  /// cannot copy: 2-byte global loads and 16-byte shared stores of whole
  /// chunks (smemElems a multiple of 8), zero past rowElems.
  void copyOddRows(int64_t rows, int64_t rowElems, int64_t smemElems,
                   const std::string &gptr, const std::string &base,
                   const std::string &r0, const std::string &last,
                   const std::function<std::string(const std::string &,
                                                   const std::string &,
                                                   int64_t)> &dstOffset);

  MlirEmitter &e;
  const std::string halfTy, smem, tid;
  const int64_t threads;
};

enum class AttentionEpilogue;

/// One thread's two output rows of a block-attention kernel, in the
/// accumulator layout both kernels share (rows[0] = row g, rows[1] =
/// row g + 8 of the thread's 16-row slice, columns 2 t4 + 8 n (+1)).
struct AttentionRows {
  std::string rows[2];
  /// q0 + qn and q0 + qn − 1 (i32).
  std::string qEnd, lastQ;
  /// (b · heads + h) · out_len (i64): the first row of this head in the
  /// output buffers.
  std::string rowBase;
  /// The output O and LSE buffers (!llvm.ptr<1>) and t4 = lane % 4.
  std::string outO, outLse, t4;
};

/// The epilogue of the block-attention kernels (mma.sync and wgmma):
/// O / l and LSE = (m + log2 l) · ln 2 in fp32, written as the partial (row
/// i − q0) or merged into / written to the accumulator (row i) per `kind`
/// (Kernels.h, AttentionEpilogue). res(i) names the KV loop's results: O
/// fragments for i < D/2, then m of rows 0 and 1, then l of rows 0 and 1
/// (per-thread partial sums).
void emitAttentionEpilogue(MlirEmitter &e, MmaFragments &frag,
                           AttentionEpilogue kind, int64_t D,
                           const std::function<std::string(int64_t)> &res,
                           const AttentionRows &a, int64_t regDim = 0);

/// Writes columns col0 and col0 + 1 (i32; col0 even, below D) of the fp32
/// row at element `rowElem` (i64) of `out` (!llvm.ptr<1>, rows of D
/// elements): value(col, old) gives column col's value, where old() emits
/// a read of its previous value (only with `readOld`). An even D keeps row
/// starts 8-byte aligned: one 8-byte access for the pair; an odd D: one
/// 4-byte access per column, the second only below D when the pair
/// `straddles` D. Shared by the attention epilogue and the backward's
/// dQ/dK/dV rows.
void storeF32Pair(
    MlirEmitter &e, const std::string &out, const std::string &rowElem,
    const std::string &col0, int64_t D, bool straddles, bool readOld,
    const std::function<std::string(int, const std::function<std::string()> &)>
        &value);

/// One KV tile's fp32 online-softmax step for a thread's two rows (r = 0:
/// row g, r = 1: row g + 8), shared by the mma.sync and wgmma kernels.
struct OnlineSoftmaxStep {
  std::string mNew[2]; ///< new row maxima (log2-scaled)
  std::string alpha[2]; ///< factor that rescales the old O and l
  std::string lNew[2]; ///< new per-thread row sums
};

/// Emits that step over the scaled scores S (m16n8 accumulator fragments,
/// overwritten in place by exp2(S − m)); `state` holds the loop-carried
/// values, with m of rows 0/1 at mOffset, mOffset + 1 and l at mOffset + 2,
/// mOffset + 3. A row with nothing visible yet keeps m = −inf and gets
/// exp2(−inf − 0), never NaN.
OnlineSoftmaxStep
emitOnlineSoftmaxStep(MlirEmitter &e, MmaFragments &frag,
                      std::vector<std::array<std::string, 4>> &S,
                      const std::vector<std::string> &state, size_t mOffset);

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_MMAFRAGMENTS_H
