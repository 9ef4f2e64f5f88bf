//===- Kernels.h - GPU kernels of the ring schedule -------------*- C++ -*-===//
//
// This file declares the kernels the GPU target generates for the per-rank
// ring program: the fused block-attention kernel (one variant per element
// type, head dim, mask, layout and tile configuration), the two kernels of
// the dim-slice path (block_scores, block_softmax_v) and the small fp32
// kernels for fill_partial, merge and finalize. Each generator returns the
// text of one `gpu.func` (see MlirEmitter.h for why text); the parameter
// lists documented here are the launch ABI the host side follows.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_KERNELS_H
#define RINGC_CODEGEN_GPU_KERNELS_H

#include "dialect/RingOps.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir::ring::gpu {

class TargetInfo;

/// The diagnostic for an element type the mma.sync kernels do not take
/// (they take bf16 and f16, m16n8k16); empty when `dtype` is one of them.
std::string checkMmaDtype(const std::string &dtype, const TargetInfo &target);

/// A layout whose parts are padded (the block op's `seq_len`, RingOps.td):
/// the sequence length, the ring size and the positions' span (local rows
/// × ring size, the `seq` of the window's clamp), compile-time constants of
/// the kernel variant. `seqLen` 0 means no padding. Padding rows get the
/// sentinel positions of Visibility.h (maskPosition, MmaFragments.h).
struct SeqPadding {
  int64_t seqLen = 0, ringSize = 1, span = 0;
  /// The padding of a block op with `seqLen` (none: no padding) whose
  /// buffers hold `localSeq` rows.
  static SeqPadding of(std::optional<uint64_t> seqLen, int64_t ringSize,
                       int64_t localSeq);
  explicit operator bool() const { return seqLen > 0; }
  /// "_L<seq>p<ring>", or "" without padding: the kernel name suffix.
  std::string suffix() const;
};

/// The sliding window a kernel variant masks with (#ring.window, see
/// Visibility.h): key position kp is visible to query position qp only if
/// d = qp − kp satisfies d <= maxDiff (the left side) and d >= minDiff (the
/// right side, −right, absent under a causal mask, which implies d >= 0).
/// The sides are clamped to the sequence length, so they fit i32 whenever
/// positions do, and d is formed from two positions (no overflow). With
/// padded parts and no causal mask, minDiff is always present (−span when
/// the right side is unlimited): it is the test that rejects the padding
/// rows' positions (Visibility.h).
struct KernelWindow {
  std::optional<int64_t> maxDiff, minDiff;

  /// The window of a block op with mask `causal` and window `w` (null: none)
  /// over a sequence of `seq` tokens, `padded` or not.
  static KernelWindow of(bool causal, WindowAttr w, int64_t seq,
                         bool padded = false);
  bool any() const { return maxDiff || minDiff; }
  /// "" or "_wl<maxDiff>" / "_wr<−minDiff>" for kernel names.
  std::string suffix() const;
};

/// Tiles of the block-attention kernel. Each warp owns 16 query rows, so a
/// CTA covers blockM = 16 * warps rows; K/V stream through shared memory in
/// tiles of blockN keys, double buffered.
struct AttentionTiles {
  int warps = 4;
  int blockN = 64;
  int blockM() const { return 16 * warps; }
  int threads() const { return 32 * warps; }
};

/// The defaults per head dim: D <= 64: 4 warps x 64 keys; D <= 128: 4 warps
/// x 32 keys; larger: 4 warps x 16 keys (registers: the O accumulator is D/2
/// floats per thread, the scores blockN/2).
AttentionTiles defaultAttentionTiles(int64_t headDim);

/// What the block-attention kernel's epilogue writes.
enum class AttentionEpilogue {
  /// ring.block_attention: the normalised partial (O, LSE) of the block.
  Partial,
  /// ring.block_attention_accumulate: the block merged into the running
  /// fp32 (O, LSE) of its rows (read, merged in registers, written back).
  Accumulate,
  /// ring.block_attention_accumulate `first`: the block's result written
  /// into the accumulator without reading it.
  AccumulateFirst,
};

/// One variant of the block-attention kernel.
struct AttentionKernelConfig {
  int64_t headDim = 64;
  /// "bf16" or "f16".
  std::string dtype = "bf16";
  MaskKind mask = MaskKind::none;
  Balance layout = Balance::none;
  KernelWindow window;
  AttentionTiles tiles;
  AttentionEpilogue epilogue = AttentionEpilogue::Partial;
  /// Padded parts: padding keys masked, padding queries see nothing.
  SeqPadding padding;
  /// Packed documents (the block op's `docs`, spec key max_docs): the most
  /// documents cu_seqlens holds, or 0 without documents. When > 0 the
  /// kernel takes cu_seqlens as its last parameter and masks every key
  /// outside its query's document (Documents.cpp); name suffix "_docs<N>".
  int64_t maxDocs = 0;

  /// The head dim rounded up to the m16n8k16 MMA's 16: shared-memory rows
  /// and register tiles hold it, zero past headDim; O's columns past
  /// headDim are never written.
  int64_t paddedHeadDim() const { return (headDim + 15) / 16 * 16; }
  /// "ringc_attn_bf16_d64_causal_zigzag_w4_n64" (+ the padding's and the
  /// documents' suffixes), with "_acc" or "_acc_first" for the
  /// accumulating epilogues.
  std::string kernelName() const;
  /// Dynamic shared memory of one CTA in bytes (Q tile + 2 x (K + V) tiles,
  /// rows padded by 16 bytes against ldmatrix bank conflicts).
  int64_t sharedBytes() const;
  /// Returns "" if the configuration can be generated for `target`, else a
  /// message saying why not and what would work.
  std::string validate(const TargetInfo &target) const;
};

/// Block-attention kernel. Parameters, in order:
///   q, k, v, out_o, out_lse : !llvm.ptr (device, generic)
///   heads, kv_heads, q_len, kv_len, out_len, q0, qn, k0, kn,
///   q_owner, kv_owner, ring_size : i32
///   scale_log2 : f32 (scale * log2(e))
///   cu_seqlens : !llvm.ptr (device, generic), only when maxDocs > 0: the
///     maxDocs + 1 int32 document boundaries (global token positions, checked
///     on the host: cu[0] = 0, non-decreasing, cu[maxDocs] = L). A key is
///     visible only inside its query's document (documentBounds), besides
///     the mask and the window, and key tiles that no query row of the CTA
///     can see are skipped (documentTileRange).
/// Grid (ceil(qn / blockM), heads, batch), block (32 * warps), dynamic
/// shared memory sharedBytes(). For query row i in [q0, q0+qn):
///   - Partial: out_o/out_lse are the partial buffers ([B, heads, out_len,
///     D] and [B, heads, out_len] f32); row i is written to row i − q0.
///   - Accumulate (fused merge): out_o/out_lse are the accumulators
///     (out_len = q_len rows, accumulator row = query row i). The epilogue
///     reads the running (O, LSE) of row i, merges the block in registers
///     with the rule of ring.merge, and writes the merged (O, LSE) back;
///     when both LSEs are −inf the row is left as it is. Every row is read
///     and written by one CTA only (rows are split between CTAs, and within
///     a warp the four lanes of a row synchronise through a shuffle between
///     the read and the write of its LSE).
///   - AccumulateFirst: as Accumulate, but the accumulator is not read: row
///     i gets the block's own result (O = 0, LSE = −inf when every key is
///     masked).
/// The parameter list is the same for all three, so the host side differs
/// only in the buffers and out_len it passes.
std::string writeAttentionKernel(const AttentionKernelConfig &config);

/// Which block-attention kernel a GPU target generates: the FlashAttention-2
/// style mma.sync kernel (every sm_80+ target) or the FlashAttention-3 style
/// warp-specialized wgmma + TMA kernel (sm_90a only).
enum class AttentionKernelKind { mma, wgmma };

/// The kernel kind of `option` ("auto", "mma" or "wgmma") for a target with
/// SM version `sm` and arch-specific features (`sm_90a`): "auto" picks
/// wgmma on sm_90a and mma elsewhere. Returns std::nullopt and sets `error`
/// for an unknown option or wgmma on a target without it.
std::optional<AttentionKernelKind>
selectAttentionKernel(StringRef option, const TargetInfo &target,
                      std::string &error);

/// The gpu.func attribute listing the parameters (indices) that are
/// 128-byte `__grid_constant__` tensor maps; gpu.func cannot carry
/// `nvvm.grid_constant` itself, so ring-gpu-grid-constants moves it onto the
/// llvm.func after convert-gpu-to-nvvm (PtxSerializer.cpp).
constexpr StringLiteral kGridConstantArgsAttr = "ringc.grid_constant_args";

/// One variant of the warp-specialized sm_90a block-attention kernel
/// (WgmmaAttentionKernel.cpp). A CTA has three warpgroups: warpgroup 0
/// produces (one thread issues the TMA loads of the Q tile and of K/V tiles
/// into a `stages`-deep shared-memory ring, completing on mbarriers), and
/// warpgroups 1 and 2 consume 64 query rows each with wgmma.mma_async
/// m64nNk16. Shared tiles are stored in 64-column panels (128 bytes a row,
/// 128-byte swizzle, the layout TMA's SWIZZLE_128B writes and wgmma's
/// swizzled descriptors read); a head dim that is not a multiple of 64 is
/// padded to one in shared memory, and TMA zero-fills the padding.
struct WgmmaAttentionConfig {
  int64_t headDim = 128;
  /// "bf16" or "f16".
  std::string dtype = "bf16";
  MaskKind mask = MaskKind::none;
  Balance layout = Balance::none;
  KernelWindow window;
  /// Keys per K/V tile (the N of S = Q·Kᵀ, the K of O += P·V).
  int blockN = 128;
  /// Depth of the K/V shared-memory ring.
  int stages = 2;
  /// What the epilogue writes (as for the mma.sync kernel).
  AttentionEpilogue epilogue = AttentionEpilogue::Partial;
  /// Padded parts (as for the mma.sync kernel).
  SeqPadding padding;
  /// Packed documents (as for the mma.sync kernel): > 0 adds the
  /// cu_seqlens parameter last and the suffix "_docs<N>".
  int64_t maxDocs = 0;
  /// FA3's ping-pong: the two consumer warpgroups take turns at the tensor
  /// cores (named barriers 1 and 2), so that one's softmax overlaps the
  /// other's GEMMs. Off: kernel name suffix "_nopp".
  bool pingPong = true;

  static constexpr int kBlockM = 128;   ///< query rows per CTA
  static constexpr int kThreads = 384;  ///< three warpgroups
  static constexpr int kPanelCols = 64; ///< 128 bytes of 16-bit elements
  /// Registers per thread after setmaxnreg: producer and consumers
  /// (128 * 24 + 256 * 240 = 64512 <= 65536).
  static constexpr int kProducerRegs = 24, kConsumerRegs = 240;
  /// Registers per thread at entry (65536 / 384 rounded down to 8).
  static constexpr int kEntryRegs = 168;

  /// 64-column panels of a shared tile row.
  int64_t panels() const { return (headDim + kPanelCols - 1) / kPanelCols; }
  /// Bytes of the Q tile and of one K (or V) stage in shared memory.
  int64_t qTileBytes() const { return panels() * kBlockM * 128; }
  int64_t kvTileBytes() const { return panels() * blockN * 128; }

  /// "ringc_attn_wgmma_bf16_d128_causal_zigzag_n128_s2" (+ "_nopp", then
  /// "_acc" / "_acc_first" for the accumulating epilogues).
  std::string kernelName() const;
  /// Dynamic shared memory of one CTA: 1024 bytes of alignment slack, the
  /// Q tile, `stages` K and V tiles and the mbarriers.
  int64_t sharedBytes() const;
  /// Returns "" if the configuration can be generated for `target`, else a
  /// message saying why not and what would work.
  std::string validate(const TargetInfo &target) const;
};

/// The default tiles of the wgmma kernel per head dim (blockN 128 up to
/// d = 128, 96 for d <= 192, 64 beyond; two stages).
WgmmaAttentionConfig defaultWgmmaAttentionConfig(int64_t headDim);

/// The wgmma block-attention kernel. Parameters, in order:
///   tm_q, tm_k, tm_v : 128-byte CUtensorMap, passed by value as
///     `__grid_constant__` (`.param .align 64 .b8 [128]`); each describes a
///     row-major [planes, rows, head_dim] tensor (planes = batch * heads of
///     the tensor, rows = its sequence length) with box {64, rows_box, 1}
///     (rows_box = 128 for Q, blockN for K and V), 128-byte swizzle and
///     zero out-of-bounds fill (codegen_abi.h: ringrt_cg_tensor_map_3d)
///   out_o, out_lse : !llvm.ptr (device, generic)
///   heads, kv_heads, q_len, kv_len, out_len, q0, qn, k0, kn,
///   q_owner, kv_owner, ring_size : i32
///   scale_log2 : f32 (scale * log2(e))
///   cu_seqlens : !llvm.ptr (device, generic), only when maxDocs > 0 (as
///     for writeAttentionKernel)
/// Grid (ceil(qn / 128), heads, batch), block 384, dynamic shared memory
/// sharedBytes() (above 48 KB: the launch opts in). The outputs per
/// epilogue are those of writeAttentionKernel.
std::string writeWgmmaAttentionKernel(const WgmmaAttentionConfig &config);

/// The dim-slice score kernel (ring.block_scores): partial S = Q_slice ·
/// K_sliceᵀ in fp32 with mma.sync m16n8k16. A CTA of kWarps warps covers
/// blockM() query rows (16 per warp) by kBlockN keys; the Q and K tiles go
/// to shared memory with cp.async (rows padded by 16 bytes) and reach the
/// tensor cores through ldmatrix.
struct BlockScoresKernelConfig {
  /// The local head dim (D / dim_slices).
  int64_t sliceDim = 32;
  /// "bf16" or "f16".
  std::string dtype = "bf16";
  static constexpr int kWarps = 4;
  static constexpr int kBlockN = 64;
  /// The slice padded to the MMA's k16 (shared rows; the padding is zero).
  int64_t paddedSliceDim() const { return (sliceDim + 15) / 16 * 16; }
  static constexpr int blockM() { return 16 * kWarps; }
  static constexpr int threads() { return 32 * kWarps; }

  /// "ringc_scores_bf16_d32".
  std::string kernelName() const;
  /// Dynamic shared memory of one CTA: (blockM() + kBlockN) padded rows.
  int64_t sharedBytes() const;
  /// Returns "" if the configuration can be generated for `target`, else a
  /// message saying why not and what would work.
  std::string validate(const TargetInfo &target) const;
};

/// Dim-slice score kernel. Parameters, in order:
///   q, k, scores : !llvm.ptr (device, generic)
///   heads, kv_heads, q_len, kv_len, s_rows, s_cols, q0, qn, k0, kn : i32
/// writes scores[b,h,i−q0,j−k0] (a [B, heads, s_rows, s_cols] f32 buffer)
/// for i in [q0, q0+qn), j in [k0, k0+kn); nothing else.
/// Grid (ceil(qn / blockM) * ceil(kn / kBlockN), heads, batch), block
/// threads(), dynamic shared memory sharedBytes().
std::string writeBlockScoresKernel(const BlockScoresKernelConfig &config);

/// The dim-slice softmax kernel (ring.block_softmax_v): scale, causal mask
/// from global positions, row softmax with LSE, and P · V_slice, all in
/// fp32, SIMT. One warp per query row: lanes split the keys for the row
/// maximum (butterfly reduction), then every lane walks all keys and
/// accumulates its columns (lane, lane + 32, ...) of the output.
struct SoftmaxVKernelConfig {
  int64_t sliceDim = 32;
  std::string dtype = "bf16";
  MaskKind mask = MaskKind::none;
  Balance layout = Balance::none;
  KernelWindow window;
  /// Padded parts (as for the block-attention kernel).
  SeqPadding padding;
  /// Packed documents (as for the block-attention kernel): the most
  /// documents cu_seqlens holds, or 0; name suffix "_docs<N>".
  int64_t maxDocs = 0;
  static constexpr int kWarps = 4;
  static constexpr int threads() { return 32 * kWarps; }

  /// "ringc_softmax_v_bf16_d32_causal_zigzag" (+ the window's, padding's
  /// and documents' suffixes).
  std::string kernelName() const;
  std::string validate(const TargetInfo &target) const;
};

/// Dim-slice softmax kernel. Parameters, in order:
///   scores, v, partial_o, partial_lse : !llvm.ptr (device, generic)
///   heads, kv_heads, seq, s_rows, s_cols, p_len, q0, qn, k0, kn,
///   q_owner, kv_owner, ring_size : i32
///   scale_log2 : f32 (scale * log2(e))
///   cu_seqlens : !llvm.ptr (device), only when maxDocs > 0 (as for the
///     block-attention kernel): a key is visible only inside its query's
///     document, and each row walks only the keys whose positions can lie
///     in its document (documentTileRange over single keys).
/// `seq` is the local sequence length (V's rows) that the layout formulas
/// use for both owners. Writes partial_o[b,h,i−q0,:] ([B, heads, p_len,
/// sliceDim] f32) and partial_lse[b,h,i−q0]; a fully masked row gets O = 0,
/// LSE = −inf. Grid (ceil(qn / kWarps), heads, batch), block threads(), no
/// shared memory.
std::string writeSoftmaxVKernel(const SoftmaxVKernelConfig &config);

/// `ringc_fill(o, lse : ptr, rows, d : i32)`: O = 0, LSE = -inf for `rows`
/// rows of `d` floats. One thread per row, blocks of 128.
std::string writeFillKernel();

/// `ringc_merge(po, pl, ao, al : ptr, bh, p_len, a_len, q0, qn, d : i32)`:
/// the fp32 online-softmax merge of ring.merge, one thread per row.
std::string writeMergeKernel();

/// `ringc_finalize_<dtype>(ao, al, o, lse : ptr, rows, d : i32)`: O rounded
/// to nearest even into `dtype`, LSE copied. One thread per row.
std::string writeFinalizeKernel(StringRef dtype);

/// One variant of the backward kernels of ring.block_attention_backward
/// (AttentionBackwardKernel.cpp): the dQ kernel (a CTA holds 16·warps query
/// rows and streams K/V tiles of blockN keys) and the dK/dV kernel (a CTA
/// holds 16·warps keys and streams Q/dO tiles of blockN queries of every
/// query head of its GQA group). Both are FlashAttention-2 style on
/// mma.sync m16n8k16 with fp32 accumulators and P recomputed from the LSE.
struct BackwardKernelConfig {
  int64_t headDim = 64;
  /// "bf16" or "f16".
  std::string dtype = "bf16";
  MaskKind mask = MaskKind::none;
  Balance layout = Balance::none;
  KernelWindow window;
  /// Padded parts (as for the block-attention kernel).
  SeqPadding padding;
  /// Packed documents (as for the block-attention kernel): > 0 adds the
  /// cu_seqlens parameter last to both kernels and the suffix "_docs<N>".
  int64_t maxDocs = 0;
  int warps = 4;
  int blockN = 64;
  /// The sm_90a form: the same two kernels with the GEMMs on
  /// wgmma.mma_async m64nNk16 (one warpgroup per 64 resident rows, so warps
  /// is 4 or 8), operands from 128-byte-swizzled shared tiles through
  /// descriptors (WgmmaFragments.h), filled by the same cp.async pipeline.
  bool wgmma = false;

  /// The head dim rounded up to the MMA's k16 (mma.sync: shared rows and
  /// register tiles hold it, zero past headDim; never written out).
  int64_t paddedHeadDim() const { return (headDim + 15) / 16 * 16; }
  /// "ringc_bwd_dq_bf16_d64_causal_zigzag_w4_n64" and
  /// "ringc_bwd_dkdv_..." ("ringc_bwd_wgmma_dq_..." for the wgmma form).
  std::string dqKernelName() const;
  std::string dkdvKernelName() const;
  /// Bytes of one shared tile of `rows` rows: padded rows (mma.sync) or
  /// 64-column panels of rows x 128 bytes (wgmma).
  int64_t tileBytes(int64_t rows) const;
  /// Dynamic shared memory of one CTA of either kernel: two resident tiles
  /// of 16·warps rows and two double-buffered tiles of blockN rows (padded
  /// rows, as the forward's; wgmma: swizzled panels, 1024 bytes of
  /// alignment slack and the streamed tiles' lse and D, 16·blockN bytes).
  int64_t sharedBytes() const;
  /// Returns "" if the configuration can be generated for `target`, else a
  /// message saying why not and what would work.
  std::string validate(const TargetInfo &target) const;

private:
  std::string suffix() const;
};

/// The default backward tiles: 4 warps; blockN 64 up to D = 64, else 32.
BackwardKernelConfig defaultBackwardConfig(int64_t headDim);
/// The default wgmma backward (sm_90a): 8 warps (two warpgroups, 128
/// resident rows per CTA); blockN 64 up to D = 64, else 32 (registers).
BackwardKernelConfig defaultWgmmaBackwardConfig(int64_t headDim);

/// The backward kernels. Parameters, in order (both):
///   q, k, v, do, lse, delta, dq, dk, dv : !llvm.ptr (device, generic)
///   heads, kv_heads, q_len, kv_len, q0, qn, k0, kn, q_owner, kv_owner,
///   ring_size : i32
///   scale_log2 : f32 (scale · log2 e), scale : f32
///   cu_seqlens : !llvm.ptr (device, generic), only when maxDocs > 0 (as
///     for writeAttentionKernel; a pair is visible only within one document)
/// q, do are [B, heads, q_len, D], k, v [B, kv_heads, kv_len, D] (input
/// dtype); lse, delta [B, heads, q_len] f32; dq [B, heads, q_len, D] and
/// dk, dv [B, kv_heads, kv_len, D] are fp32 accumulators. For visible pairs
/// (i, j), i in [q0, q0+qn), j in [k0, k0+kn):
///   - dQ kernel: grid (ceil(qn / (16·warps)), heads, batch); adds
///     scale · Σ_j dS_ij K_j to dq row i;
///   - dK/dV kernel: grid (ceil(kn / (16·warps)), kv_heads, batch); adds
///     Σ_i P_ij dO_i to dv row j and scale · Σ_i dS_ij Q_i to dk row j,
///     summed over the query heads of the key/value head.
/// Each accumulator row has one writer (no atomics); block (32·warps),
/// dynamic shared memory sharedBytes().
std::string writeBackwardDqKernel(const BackwardKernelConfig &config);
std::string writeBackwardDkDvKernel(const BackwardKernelConfig &config);

/// The dim-slice backward (ring.block_attention_backward with scores and
/// score_grad, the all-reduced Q·Kᵀ and dO·Vᵀ of the block): two SIMT
/// kernels (SliceKernels.cpp), one warp per output row, lanes over the
/// columns of the slice, fp32 throughout.
struct SliceBackwardKernelConfig {
  int64_t sliceDim = 32;
  std::string dtype = "bf16";
  MaskKind mask = MaskKind::none;
  Balance layout = Balance::none;
  KernelWindow window;
  /// Padded parts (as for the block-attention kernel).
  SeqPadding padding;
  /// Packed documents (as for the block-attention kernel): the most
  /// documents cu_seqlens holds, or 0; name suffix "_docs<N>".
  int64_t maxDocs = 0;
  static constexpr int kWarps = 4;
  static constexpr int threads() { return 32 * kWarps; }

  /// "ringc_bwd_slice_dq_bf16_d32_causal_zigzag" and "..._dkdv_...".
  std::string dqKernelName() const;
  std::string dkdvKernelName() const;
  std::string validate(const TargetInfo &target) const;
};

/// The dim-slice backward kernels. Parameters, in order (both):
///   q, k, do, lse, delta, scores, score_grad, dq, dk, dv : !llvm.ptr
///   heads, kv_heads, q_len, kv_len, s_rows, s_cols, q0, qn, k0, kn,
///   q_owner, kv_owner, ring_size : i32
///   scale_log2, scale : f32
///   cu_seqlens : !llvm.ptr (device), only when maxDocs > 0: a pair counts
///     only inside one document, and each output row walks only the rows
///     of the other side that can share its document (documentTileRange).
/// scores/score_grad are [B, heads, s_rows, s_cols] f32 (row i − q0, column
/// j − k0); the rest as for the mma.sync backward kernels, with the slice
/// width as head dim. dQ: grid (ceil(qn / kWarps), heads, batch); dK/dV:
/// grid (ceil(kn / kWarps), kv_heads, batch); block threads(), no shared
/// memory. Each accumulator row has one writer.
std::string writeSliceBackwardDqKernel(const SliceBackwardKernelConfig &config);
std::string
writeSliceBackwardDkDvKernel(const SliceBackwardKernelConfig &config);

class MlirEmitter;

/// Whether a score is visible: `inRange` (i1: the key and query are inside
/// their row ranges), under a causal mask kPos <= qPos, and inside the
/// sliding window (global positions, i32). The one place the backward
/// kernels derive visibility.
std::string maskVisible(MlirEmitter &e, MaskKind mask,
                        const KernelWindow &window,
                        const std::string &inRange, const std::string &qPos,
                        const std::string &kPos);

/// Packed documents (Documents.cpp), shared by every GPU kernel that masks
/// them. The kernel parameter is `%cu_seqlens : !llvm.ptr` (Kernels.h:
/// last, only when maxDocs > 0); `cu` below is that pointer cast to
/// !llvm.ptr<1> (documentsPointer).
///
/// The name suffix of a kernel variant with `maxDocs` documents: "" or
/// "_docs<maxDocs>".
std::string documentsSuffix(int64_t maxDocs);

/// Emits `%cu = llvm.addrspacecast %cu_seqlens` (global) and returns it.
std::string documentsPointer(MlirEmitter &e);

/// The document of a position: keys in [first, last] (both of type `ty`)
/// share it.
struct DocumentBounds {
  std::string first, last;
};

/// The document that holds position `pos` (of type `ty`, "i32" or "i64"),
/// by a binary search of cu (maxDocs + 1 int32 boundaries), in the fixed
/// ceil(log2(maxDocs)) + 1 steps of the CPU kernels (one load each, no
/// branch: every thread of a warp runs the same steps). For 0 <= pos < L
/// it is the one non-empty document d with cu[d] <= pos < cu[d+1], first =
/// cu[d] and last = cu[d+1] − 1. Outside, the result is monotone in pos
/// (so a range's ends bound the documents of every position between them):
/// pos < 0 gives the empty [0, −1], which is what a padding query's
/// sentinel (maskPosition, negative) gets: it sees nothing; pos >= L gives
/// the last non-empty document, which a padding key's sentinel (>= L)
/// never lies in, so documentAdmits rejects it against any query. The
/// document of a padding *key* (the dK/dV kernel's view) is thus not
/// empty: there the mask's own padding test (KernelWindow) must stay.
DocumentBounds documentBounds(MlirEmitter &e, const std::string &cu,
                              int64_t maxDocs, const std::string &pos,
                              llvm::StringRef ty = "i32");

/// Whether position `kp` lies in `doc` (an i1 of two compares).
std::string documentAdmits(MlirEmitter &e, const DocumentBounds &doc,
                           const std::string &kp, llvm::StringRef ty = "i32");

/// The keys that query position `qp` (i32) sees, as one range: its
/// document `doc` cut by the causal mask (kp <= qp) and the window (qp −
/// maxDiff <= kp <= qp − minDiff), as the CPU kernels cut a row's range.
/// documentAdmits against it is then the whole positional test of a key
/// (two compares per score instead of the mask's, the window's and the
/// document's); a padding row's sentinel keeps an empty range and a
/// padding key's lies past every document (documentBounds).
DocumentBounds rowKeyRange(MlirEmitter &e, const DocumentBounds &doc,
                           const std::string &qp, bool causal,
                           const KernelWindow &window);

/// The run-time tile skip: of `n` tiles (i32) of rows whose positions grow
/// with the row (every layout, padded or not: use the part's formula,
/// paddedPosition, not the sentinels), the range [begin, end) (i32) of
/// tiles that can hold a position in [lo, hi] (a document range, e.g. the
/// first of documentBounds(min position of the CTA's rows) and the last of
/// documentBounds(max position)). `firstPos(t)` / `lastPos(t)` emit the
/// positions of tile t's first and last row. With zigzag or striped
/// layouts a tile's positions are not contiguous, but they grow, so the
/// tiles that reach [lo, hi] are contiguous and this range is exact up to
/// the gaps (conservative: a tile it keeps may still be empty). Pairs are
/// symmetric (q sees k iff both lie in one document), so the dK/dV kernel
/// uses it as is with the roles swapped. Two bisections over the tiles
/// (emitPrefixCount, about log2(n) + 1 steps each).
struct TileRange {
  std::string begin, end;
};
TileRange
documentTileRange(MlirEmitter &e, const std::string &n, const std::string &lo,
                  const std::string &hi,
                  const std::function<std::string(const std::string &)> &firstPos,
                  const std::function<std::string(const std::string &)> &lastPos);

/// The elementwise kernels of the backward (GradRowKernels.cpp), one thread
/// per element, blocks of kRowKernelThreads:
///   ringc_zero(p : ptr, n : i64): p[i] = 0 (f32);
///   ringc_accumulate_<src>(src, acc : ptr, n : i64): acc[i] += src[i];
///   ringc_convert_<src>_<dst>(src, dst : ptr, n : i64): dst[i] = src[i]
///     (round to nearest even when narrowing);
///   ringc_grad_delta_<dt>(o, do, delta : ptr, n, dim : i64): one thread
///     per row, delta[r] = Σ_d o[r,d] · do[r,d] in fp32.
///   ringc_sum_replicas_<dt>(src, dst : ptr, n, inner, r, limit : i64):
///     dst[o·inner + j] = Σ_{k<r} src[(o·r + k)·inner + j] for j < limit
///     (the a2a share's rows × D; inner for all), summed in fp32 and
///     rounded once (ring.sum_replicas).
std::string writeZeroKernel();
std::string writeAccumulateKernel(StringRef srcType);
std::string writeConvertKernel(StringRef srcType, StringRef dstType);
std::string writeGradDeltaKernel(StringRef dtype);
std::string accumulateKernelName(StringRef srcType);
std::string convertKernelName(StringRef srcType, StringRef dstType);
std::string gradDeltaKernelName(StringRef dtype);
std::string writeSumReplicasKernel(StringRef dtype);
std::string sumReplicasKernelName(StringRef dtype);

/// Threads per block of the fp32 row kernels.
constexpr int kRowKernelThreads = 128;

/// Which kernel of the whole layer (RingLayerOps.td, GemmKernel.cpp).
enum class GemmKind {
  /// ring.project: X · W (+ bias) rounded into Q, K or V [B, H, Ll, Dl].
  Project,
  /// The three ring.project of Q, K and V from one X in one launch.
  ProjectQKV,
  /// ring.out_project: the fp32 partial Y = O · W_o, O read as attention
  /// writes it ([B, H, Ll, Dl]).
  OutProject,
  /// ring.out_project and ring.output_all_reduce of a rank with nothing to
  /// reduce (one head group, one dim slice): Y = round(O · W_o + b_o) from
  /// the fp32 accumulators, with no partial in memory.
  OutProjectY,
  /// The device half of ring.output_all_reduce after the sums: Y =
  /// round(partial + b_o).
  Finish,
  /// The device half of ring.output_reduce_scatter after the sums: the
  /// rank's share of the partial's rows, + b_o, rounded into Y; Y rows past
  /// the share 0.
  ScatterFinish,
};

/// One variant of the layer's kernels. The GEMMs run on mma.sync m16n8k16
/// (bf16/f16 operands, fp32 accumulators): a CTA of kWarps warps computes a
/// kBlockM x kBlockN tile of C (each warp 64 x 32), with kBlockK-deep A and
/// B tiles double buffered in shared memory through cp.async. With `wgmma`
/// (sm_90a), the same 256 threads are two warpgroups computing a kBlockM x
/// kWgmmaBlockN tile, each 64 x kWgmmaBlockN on wgmma m64n<kWgmmaBlockN>k16
/// with both operands from 128-byte-swizzled shared tiles kWgmmaBlockK
/// deep, kWgmmaStages of them in flight.
struct GemmKernelConfig {
  GemmKind kind = GemmKind::Project;
  /// "bf16" or "f16".
  std::string dtype = "bf16";
  /// Project and Finish: add a bias vector of the element type.
  bool bias = false;
  /// The GEMMs on wgmma (sm_90a) rather than mma.sync; Finish ignores it.
  bool wgmma = false;
  /// 0 for the chunked kernel, which copies X, W and O in 16-byte chunks
  /// and needs d_model and the local head_dim Dl to be multiples of 8.
  /// Otherwise the element-wise variant of a layer with this d_model and
  /// Dl (both compile-time constants of its addressing): tiles gathered
  /// element by element, zeros past K, C, Y and the partial written
  /// element by element where a column pair is not aligned or spans two
  /// heads (GemmKernel.cpp). Set by setShape().
  int64_t dModel = 0, headDim = 0;

  /// Warps of a CTA, as kWarpsM rows x kWarpsN columns of warp tiles.
  static constexpr int kWarpsM = 2, kWarpsN = 4, kWarps = kWarpsM * kWarpsN;
  static constexpr int kBlockM = 128, kBlockN = 128, kBlockK = 32;
  static constexpr int kWgmmaBlockN = 256, kWgmmaBlockK = 64,
                       kWgmmaStages = 3;
  /// The element-wise wgmma GEMM's N tile: its copies hold the eight
  /// loaded elements of each of a thread's chunks in registers next to the
  /// 64 x N accumulators (N / 2 a thread); with N = 256 (12 chunks a
  /// thread, 128 accumulators) ptxas needs 244-255 of the 255 registers,
  /// N = 128 (8 chunks, 64 accumulators) 161-208 (bench/NOTES.md "Layer
  /// GEMMs: any d_model / head_dim").
  static constexpr int kWgmmaOddBlockN = 128;
  static constexpr int threads() { return 32 * kWarps; }
  /// The N width and K depth of a tile.
  int64_t blockN() const {
    return !wgmma ? kBlockN : chunked() ? kWgmmaBlockN : kWgmmaOddBlockN;
  }
  int64_t blockK() const { return wgmma ? kWgmmaBlockK : kBlockK; }

  /// "ringc_gemm_project_bf16_bias", "ringc_gemm_qkv_bf16",
  /// "ringc_gemm_out_project_f16", "ringc_gemm_out_y_bf16_bias",
  /// "ringc_layer_finish_bf16_bias", "ringc_layer_scatter_finish_f16"; the
  /// wgmma GEMMs are "ringc_gemm_wgmma_qkv_bf16" and so on; the
  /// element-wise GEMMs end in "_dm<dModel>_dl<headDim>".
  std::string kernelName() const;
  /// Dynamic shared memory of one CTA (two stages of padded A and B tiles;
  /// wgmma: kWgmmaStages of swizzled tiles and 1024 bytes of alignment
  /// slack).
  int64_t sharedBytes() const;
  /// Returns "" if the variant can be generated for `target`, else why not.
  std::string validate(const TargetInfo &target) const;
  /// Returns "" if a GEMM of M x N x K fits the kernel (N and K positive
  /// and below 2^31, M at most 65535 row tiles), else a message naming the
  /// size.
  std::string checkShape(int64_t m, int64_t n, int64_t k) const;
  /// Picks the variant for a layer of `dModel` and local head_dim `dl`:
  /// the chunked kernel when both are multiples of 8, else the
  /// element-wise one (dModel, headDim).
  void setShape(int64_t dModel, int64_t dl);
  /// The kernel copies whole 16-byte chunks (dModel == 0).
  bool chunked() const { return dModel == 0; }
};

/// The layer's kernels. The GEMMs (Project, OutProject, OutProjectY) take,
/// in order:
///   a, w, bias, c : !llvm.ptr (device, generic; bias unused without it)
///   m, n, k, seq, heads, dl : i32
/// with M = B·Ll rows, N columns, K the reduction length, seq = Ll, heads =
/// H and dl = Dl of the [B, H, Ll, Dl] side (C for Project, A for
/// OutProject and OutProjectY; c is Y for OutProjectY, bias b_o). Grid
/// (ceil(N / blockN()), ceil(M / kBlockM), 1), block
/// threads(), dynamic shared memory sharedBytes(). Finish takes
///   partial, bias, y : !llvm.ptr, count, cols : i64
/// (count = B·Ll·d_model, cols = d_model); grid ceil(count /
/// kRowKernelThreads), block kRowKernelThreads, no shared memory.
/// ScatterFinish takes
///   partial, bias, y : !llvm.ptr, count, cols, yRows, rows, first,
///   share : i64
/// (count = B·yRows·d_model elements of Y, partial [B, rows, d_model], the
/// share's partial rows [first, first + share)); launched as Finish.
/// ProjectQKV takes
///   a, wq, wk, wv, bq, bk, bv, q, k, v : !llvm.ptr
///   m, nq, nkv, k, seq, hq, hkv, dl : i32
/// (nq = Hq·Dl, nkv = Hkv·Dl) on grid (ceil(nq / blockN()) + 2 ·
/// ceil(nkv / blockN()), ceil(M / kBlockM), 1); the rest as Project.
std::string writeGemmKernel(const GemmKernelConfig &config);

class MlirEmitter;

/// The online-softmax merge weights of one row (natural-log LSEs).
struct MergeWeights {
  std::string lse, wa, wb;
};

/// Emits the merge of ring.merge for one row, shared by ringc_merge and the
/// accumulating attention epilogue: m = max(la, lb); opens
/// `scf.if m != −inf {` (both −inf: the row is left alone) and returns,
/// inside it, lse = m + log(e^(la−m) + e^(lb−m)), wa = e^(la−lse) and
/// wb = e^(lb−lse). The caller writes the row and closes the region.
MergeWeights openMergeRow(MlirEmitter &e, const std::string &la,
                          const std::string &lb);

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_KERNELS_H
