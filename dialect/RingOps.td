//===- RingOps.td - operations of the ring dialect ---------*- tablegen -*-===//
//
// This file defines the operations of the `ring` dialect.
//
//===----------------------------------------------------------------------===//

#ifndef RING_OPS_TD
#define RING_OPS_TD

include "dialect/RingDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

/// The element types ringc computes attention on.
def Ring_ElementType : AnyTypeOf<[BF16, F16, F32]>;
def Ring_QKVTensor : 4DTensorOf<[BF16, F16, F32]>;
def Ring_LseTensor : 3DTensorOf<[F32]>;

def Ring_AttentionOp : Ring_Op<"attention", [
    Pure,
    AllElementTypesMatch<["query", "key", "value", "output"]>
  ]> {
  let summary = "multi-head attention on global tensors (the spec-level op)";
  let description = [{
    Computes `O = softmax(Q Kᵀ · scale + mask) V` per (batch, head) and the
    log-sum-exp of every score row (natural log, fp32).

    * Q is `[B, Hq, L, D]`; K and V are `[B, Hkv, L, D]` with `Hq % Hkv == 0`
      (GQA; MQA when `Hkv == 1`). Query head `h` uses key/value head
      `h / (Hq / Hkv)`.
    * The element type is bf16, f16 or f32 and is the same for Q, K, V and O.
      Accumulation is fp32; LSE is `[B, Hq, L]` in f32.
    * `mask` is `none` (default) or `causal` (key j is visible to query i iff
      j ≤ i, in global token order). A row whose every score is masked gives
      O = 0 and LSE = −inf.
    * `scale` defaults to 1/sqrt(D) and must be positive and finite.
    * `balance` is the sequence layout over the ring axis; when absent it is
      `zigzag` for a causal mask and `none` otherwise.
    * `window<left = L, right = R>` is a sliding window (#ring.window):
      key j is visible to query i only if pos(i) − pos(j) ≤ L and
      pos(j) − pos(i) ≤ R (−1: unlimited), combined with the mask.
    * `max_docs = N` packs up to N variable-length documents into the
      sequence (varlen). Their boundaries are a runtime input, `cu_seqlens`
      (N + 1 int32 global token positions: cu[0] = 0, non-decreasing,
      cu[N] = L; empty documents allowed), so the artifact's entries take
      it after their tensors. Key j is visible to query i only if both lie
      in the same document, and the mask and window hold (causal is then
      causal within the document). Blocks that share no document are
      skipped at run time; the ring still moves every K/V block, since the
      schedule cannot prove a stage dead before the documents are known.
    * `grad` asks for the backward pass too: the artifact then also exports
      `NAME_attention_backward(q, k, v, o, lse, do) -> (dq, dk, dv)`
      (`ring.local_attention_backward` after `ring-partition`).

    How the work spreads over devices comes from the `shard.shard`
    annotations of the operands (see the dialect documentation); the
    `ring-verify-shardings` pass checks them.

    `a2a_axis(A)` names grid axis A as the all-to-all (Ulysses) axis. The
    sequence dimension is then split over `[R, A]` (ring axis R, major; the
    hierarchical plan) or over `[A]` alone (pure Ulysses): a rank (p, u)
    holds part u of the U parts of ring rank p's local block. Before the
    attention an all-to-all over A gives each rank Hq/(n·U) query heads of
    the whole block (and the key/value heads they use: replicated when
    Hkv/n < U), after it a second one returns O and LSE to the sequence
    layout.

    ```mlir
    shard.grid @cluster(shape = 2x4)
    %s = shard.sharding @cluster split_axes = [[], [], [0, 1]] : !shard.sharding
    ...
    %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> a2a_axis(1) : ...
    ```

    Example (single device):

    ```mlir
    %o, %lse = ring.attention %q, %k, %v mask<causal>
        : tensor<2x8x256x64xf32>, tensor<2x2x256x64xf32>, tensor<2x2x256x64xf32>
        -> tensor<2x8x256x64xf32>, tensor<2x8x256xf32>
    ```
  }];

  let arguments = (ins
    Ring_QKVTensor:$query,
    Ring_QKVTensor:$key,
    Ring_QKVTensor:$value,
    DefaultValuedAttr<Ring_MaskAttr, "::mlir::ring::MaskKind::none">:$mask,
    OptionalAttr<Ring_BalanceAttr>:$balance,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$grad,
    OptionalAttr<Ring_WindowAttr>:$window,
    OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$a2a_axis,
    OptionalAttr<I64Attr>:$max_docs
  );
  let results = (outs
    Ring_QKVTensor:$output,
    Ring_LseTensor:$lse
  );

  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `` $mask^)?
    (`balance` `` $balance^)?
    (`window` `` $window^)?
    (`scale` `(` $scale^ `)`)?
    (`grad` $grad^)?
    (`a2a_axis` `(` $a2a_axis^ `)`)?
    (`max_docs` `(` $max_docs^ `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) `,` type($lse)
  }];

  let extraClassDeclaration = [{
    /// The sequence layout in effect: the attribute, or zigzag for a causal
    /// mask and none otherwise.
    ::mlir::ring::Balance getEffectiveBalance();
    /// The softmax scale in effect: the attribute, or 1/sqrt(D).
    double getEffectiveScale();
    bool isCausal() { return getMask() == ::mlir::ring::MaskKind::causal; }
  }];

  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Per-rank operations (partitioned, scheduled and overlapped phases)
//===----------------------------------------------------------------------===//
//
// From ring-partition on, the per-rank program works on memrefs in
// destination-passing style: the function receives the rank's local Q, K, V
// and writes its local O and LSE, which is the C ABI of the artifact.
//
// Shared notation for the block ops below: a rank's local buffers are
// Q [B, Hl, Ll, Dl], K and V [B, Hkvl, Ll, Dl]; local query head h reads
// key/value head h / (Hl / Hkvl). `q_rows = [q0, qn]` selects local query
// rows [q0, q0+qn) and `kv_rows = [k0, kn]` key rows [k0, k0+kn) of the K/V
// buffer. Global token positions follow `layout` with `ring_size` P from the
// owner rank of each buffer (`q_owner`, `kv_owner`; Ll = local sequence):
//   none:    pos(i) = owner·Ll + i
//   zigzag:  C = Ll/2; pos(i) = owner·C + i for i < C,
//            else (2P−1−owner)·C + (i − C)
//   striped: pos(i) = i·P + owner
// Under `mask = causal`, key j is visible to query i iff pos(j) ≤ pos(i).
// With `window<left = L, right = R>` it must also satisfy
// pos(i) − pos(j) ≤ L and pos(j) − pos(i) ≤ R (−1: unlimited); a block op
// carries the window only when the window cuts through its block.
// With `seq_len = L` (present when L does not divide into the layout's
// parts), the parts have near-equal sizes and Ll rows hold the largest,
// padded (ringrt/Layout.h): with parts = P (2P for zigzag), part c holds
// L/parts tokens (one more if c < L mod parts) from token
// start(c) = c·(L/parts) + min(c, L mod parts); pos(i) = start(owner) + i
// (none), start(chunk) + offset in the chunk's slot (zigzag, C = Ll/2),
// i·P + owner (striped); a row past its part's tokens (striped: pos ≥ L)
// is padding. Padding keys are never visible and padding queries see
// nothing (O = 0, LSE = −inf), under every mask.
// With `docs(%cu)` (packed documents, `max_docs` on ring.attention), %cu
// holds the N + 1 document boundaries (int32 global positions, validated
// by the entry): key j is visible to query i only if cu[d] <= pos(j) <
// cu[d+1] for the document d that holds pos(i), besides the mask and
// window. The kernels apply it at run time to every block, whatever its
// compile-time `mask` says, and skip key tiles outside the document range
// of their queries.

def Ring_DocBounds : MemRefRankOf<[I32], [1]>;

def Ring_F32Buffer : MemRefOf<[F32]>;
// The global sequence length of a layout with padding rows (see above).
def Ring_SeqLenAttr : OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>;
def Ring_AnyBuffer : MemRefOf<[BF16, F16, F32]>;
def Ring_RowRange : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;

def Ring_LocalAttentionOp : Ring_Op<"local_attention", [AttrSizedOperandSegments]> {
  let summary = "one rank's share of a distributed attention (partitioned phase)";
  let description = [{
    The per-rank form of a `ring.attention` after `ring-partition`: the
    rank's local Q, K, V (already in the layout of the plan) and its local O
    and LSE outputs, with its grid coordinates. `ring-schedule` expands it
    into the P-stage ring. With packed documents (`max_docs` in the plan)
    `docs(%cu)` is the per-rank function's `cu_seqlens`.

    ```mlir
    %c:3 = shard.process_multi_index on @cluster : index, index, index
    ring.local_attention ins(%q, %k, %v : memref<1x16x256x64xbf16>,
        memref<1x4x256x64xbf16>, memref<1x4x256x64xbf16>)
        outs(%o, %lse : memref<1x16x256x64xbf16>, memref<1x16x256xf32>)
        coords(%c#0, %c#1, %c#2) plan(#ring.plan<...>)
    ```
  }];
  let arguments = (ins
    Ring_AnyBuffer:$query, Ring_AnyBuffer:$key, Ring_AnyBuffer:$value,
    Ring_AnyBuffer:$output, Ring_F32Buffer:$lse,
    Optional<Ring_DocBounds>:$documents,
    Variadic<Index>:$coords,
    Ring_PlanAttr:$plan
  );
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    `outs` `(` $output `,` $lse `:` type($output) `,` type($lse) `)`
    (`docs` `(` $documents^ `:` type($documents) `)`)?
    (`coords` `(` $coords^ `)`)? `plan` `(` $plan `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_StageOp : Ring_Op<"stage", [
    SingleBlock, NoTerminator, RecursiveMemoryEffects
  ]> {
  let summary = "one stage of the ring schedule";
  let description = [{
    Groups the work of stage `index` (0 ≤ index < P): the block computations
    against the K/V block that came from ring rank (p − index) mod P, the
    merges, and the transfers that move K/V on. (A sliding window's halo
    runs fewer stages, and its backward adds rounds with only the dK/dV
    return hops after them, numbered on.) It only structures the schedule
    for the overlap pass and the checker; lowering inlines it.

    ```mlir
    ring.stage 1 {
      ring.block_attention ...
      ring.merge ...
      ring.shift %kb0, %kb1 stage 1 : memref<1x4x256x64xbf16>
    }
    ```
  }];
  let arguments = (ins I64Attr:$index);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$index attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def Ring_FillPartialOp : Ring_Op<"fill_partial"> {
  let summary = "initialise an fp32 accumulator: O = 0, LSE = −inf";
  let description = [{
    ```mlir
    ring.fill_partial %acc_o, %acc_lse : memref<1x16x256x64xf32>, memref<1x16x256xf32>
    ```
  }];
  let arguments = (ins Arg<Ring_F32Buffer, "", [MemWrite]>:$output,
                       Arg<Ring_F32Buffer, "", [MemWrite]>:$lse);
  let assemblyFormat = "$output `,` $lse attr-dict `:` type($output) `,` type($lse)";
  let hasVerifier = 1;
}

def Ring_BlockAttentionOp : Ring_Op<"block_attention"> {
  let summary = "fused attention of a row range of Q against one K/V block";
  let description = [{
    For every batch b, local head h and query row i in `q_rows`, computes the
    scores s_j = scale · Σ_d Q[b,h,i,d]·K[b,h/r,j,d] for key rows j in
    `kv_rows` (r = Hl/Hkvl), masks them (see the notation above), and writes
    the normalised partial output and its log-sum-exp in fp32:
    `partial_o[b,h,i−q0,:] = Σ_j softmax(s)_j V[b,h/r,j,:]`,
    `partial_lse[b,h,i−q0] = log Σ_j exp(s_j)` (natural log).
    A row with every score masked gets O = 0 and LSE = −inf. Rows
    [qn, ...) of the partial buffers are left alone. bf16/f16 inputs are
    widened to f32; all arithmetic is fp32.

    ```mlir
    ring.block_attention ins(%q, %kb, %vb : memref<1x4x64x64xbf16>, memref<1x2x64x64xbf16>, memref<1x2x64x64xbf16>)
        outs(%po, %pl : memref<1x4x64x64xf32>, memref<1x4x64xf32>)
        q_owner(%p) kv_owner(%src) q_rows = [0, 64] kv_rows = [0, 32]
        mask<none> layout<zigzag> ring_size = 4 scale = 1.250000e-01
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$query,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$key,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$value,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$partial_output,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$partial_lse,
    Index:$q_owner, Index:$kv_owner,
    Optional<Ring_DocBounds>:$documents,
    Ring_RowRange:$q_rows, Ring_RowRange:$kv_rows,
    Ring_MaskAttr:$mask, Ring_BalanceAttr:$layout,
    OptionalAttr<Ring_WindowAttr>:$window,
    I64Attr:$ring_size, F64Attr:$scale, Ring_SeqLenAttr:$seq_len
  );
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    `outs` `(` $partial_output `,` $partial_lse `:` type($partial_output) `,` type($partial_lse) `)`
    `q_owner` `(` $q_owner `)` `kv_owner` `(` $kv_owner `)`
    (`docs` `(` $documents^ `:` type($documents) `)`)?
    `q_rows` `=` $q_rows `kv_rows` `=` $kv_rows
    `mask` `` $mask `layout` `` $layout (`window` `` $window^)? `ring_size` `=` $ring_size `scale` `=` $scale
    (`seq_len` `=` $seq_len^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_BlockAttentionAccumulateOp : Ring_Op<"block_attention_accumulate"> {
  let summary = "block attention that merges its block into the running fp32 (O, LSE)";
  let description = [{
    The fused form of `ring.block_attention` followed by `ring.merge` (made
    by `ring-fuse-merge`). It computes the block exactly as
    `ring.block_attention` does (same operands, rows, mask, layout, ring
    size and scale) but, instead of writing a partial (O, LSE) for a
    separate merge, it merges the block into the accumulator rows of its
    queries in its epilogue: for query row i in `q_rows`, with (O_b, l_b)
    the block's normalised result,
    `l = max(l_acc, l_b)`, `lse = l + log(e^(l_acc−l) + e^(l_b−l))` and
    `O = O_acc·e^(l_acc−lse) + O_b·e^(l_b−lse)`, written to
    `acc_output[b,h,i,:]` and `acc_lse[b,h,i]` (accumulator row = query row;
    the accumulators have the query buffer's rows). All in fp32; when both
    LSEs are −inf the row is O = 0, LSE = −inf.

    With `first`, the accumulator rows of `q_rows` are not read: they hold
    no merged block yet, so the block's own result is written (a row with
    every score masked gets O = 0, LSE = −inf). A schedule whose first
    stage covers every row with `first` blocks needs no
    `ring.fill_partial`. `ring-verify-schedule` proves that a `first` block
    never overwrites merged rows and that a block without `first` only
    reads initialised rows.

    ```mlir
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x4x64x64xbf16>, memref<1x2x64x64xbf16>, memref<1x2x64x64xbf16>)
        acc(%acc_o, %acc_l : memref<1x4x64x64xf32>, memref<1x4x64xf32>)
        q_owner(%p) kv_owner(%src) q_rows = [0, 64] kv_rows = [0, 32]
        mask<none> layout<zigzag> ring_size = 4 scale = 1.250000e-01 first
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$query,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$key,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$value,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$acc_output,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$acc_lse,
    Index:$q_owner, Index:$kv_owner,
    Optional<Ring_DocBounds>:$documents,
    Ring_RowRange:$q_rows, Ring_RowRange:$kv_rows,
    Ring_MaskAttr:$mask, Ring_BalanceAttr:$layout,
    OptionalAttr<Ring_WindowAttr>:$window,
    ConfinedAttr<I64Attr, [IntPositive]>:$ring_size, F64Attr:$scale,
    UnitAttr:$first, Ring_SeqLenAttr:$seq_len
  );
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,` type($value) `)`
    `acc` `(` $acc_output `,` $acc_lse `:` type($acc_output) `,` type($acc_lse) `)`
    `q_owner` `(` $q_owner `)` `kv_owner` `(` $kv_owner `)`
    (`docs` `(` $documents^ `:` type($documents) `)`)?
    `q_rows` `=` $q_rows `kv_rows` `=` $kv_rows
    `mask` `` $mask `layout` `` $layout (`window` `` $window^)? `ring_size` `=` $ring_size `scale` `=` $scale
    (`first` $first^)?
    (`seq_len` `=` $seq_len^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_BlockScoresOp : Ring_Op<"block_scores"> {
  let summary = "partial scores of one dim slice (before the slice all-reduce)";
  let description = [{
    With head_dim split over m dim slices, each rank holds D/m columns of Q
    and K. Writes `scores[b,h,i−q0,j−k0] = Σ_{d in slice} Q[b,h,i,d]·K[b,h/r,j,d]`
    (unscaled, unmasked, fp32) for i in `q_rows`, j in `kv_rows`. A
    `ring.all_reduce` over the dim-slice axis then makes them full scores.

    ```mlir
    ring.block_scores ins(%q, %kb : memref<1x8x64x32xbf16>, memref<1x8x64x32xbf16>)
        outs(%s : memref<1x8x64x64xf32>) q_rows = [0, 64] kv_rows = [0, 64]
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$query,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$key,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$scores,
    Ring_RowRange:$q_rows, Ring_RowRange:$kv_rows
  );
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `:` type($query) `,` type($key) `)`
    `outs` `(` $scores `:` type($scores) `)`
    `q_rows` `=` $q_rows `kv_rows` `=` $kv_rows attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_BlockSoftmaxVOp : Ring_Op<"block_softmax_v"> {
  let summary = "softmax of full scores times this rank's V slice";
  let description = [{
    Scales and masks the summed scores of `ring.block_scores` +
    `ring.all_reduce`, takes the softmax per row and multiplies with the
    rank's slice of V: writes partial O (its D/m columns) and LSE for the
    rows of `q_rows`, as `ring.block_attention` does, including the
    document mask of `docs(%cu)` with packed documents.

    ```mlir
    ring.block_softmax_v ins(%s, %vb : memref<1x8x64x64xf32>, memref<1x8x64x32xbf16>)
        outs(%po, %pl : memref<1x8x64x32xf32>, memref<1x8x64xf32>)
        q_owner(%p) kv_owner(%src) q_rows = [0, 64] kv_rows = [0, 64]
        mask<causal> layout<none> ring_size = 2 scale = 0.125
    ```
  }];
  let arguments = (ins
    Arg<Ring_F32Buffer, "", [MemRead]>:$scores,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$value,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$partial_output,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$partial_lse,
    Index:$q_owner, Index:$kv_owner,
    Optional<Ring_DocBounds>:$documents,
    Ring_RowRange:$q_rows, Ring_RowRange:$kv_rows,
    Ring_MaskAttr:$mask, Ring_BalanceAttr:$layout,
    OptionalAttr<Ring_WindowAttr>:$window,
    I64Attr:$ring_size, F64Attr:$scale, Ring_SeqLenAttr:$seq_len
  );
  let assemblyFormat = [{
    `ins` `(` $scores `,` $value `:` type($scores) `,` type($value) `)`
    `outs` `(` $partial_output `,` $partial_lse `:` type($partial_output) `,` type($partial_lse) `)`
    `q_owner` `(` $q_owner `)` `kv_owner` `(` $kv_owner `)`
    (`docs` `(` $documents^ `:` type($documents) `)`)?
    `q_rows` `=` $q_rows `kv_rows` `=` $kv_rows
    `mask` `` $mask `layout` `` $layout (`window` `` $window^)? `ring_size` `=` $ring_size `scale` `=` $scale
    (`seq_len` `=` $seq_len^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_MergeOp : Ring_Op<"merge"> {
  let summary = "online-softmax merge of a partial result into the accumulator (fp32)";
  let description = [{
    For rows i in [0, qn) of the partial and accumulator rows q0 + i
    (`rows = [q0, qn]`): with l = max(l_acc, l_part),
    `lse = l + log(e^(l_acc−l) + e^(l_part−l))` and
    `O = O_acc·e^(l_acc−lse) + O_part·e^(l_part−lse)`. When both are −inf
    the row stays O = 0, LSE = −inf. All in fp32.

    ```mlir
    ring.merge ins(%po, %pl : memref<1x4x64x64xf32>, memref<1x4x64xf32>)
        outs(%acc_o, %acc_l : memref<1x4x64x64xf32>, memref<1x4x64xf32>) rows = [0, 64]
    ```
  }];
  let arguments = (ins
    Arg<Ring_F32Buffer, "", [MemRead]>:$partial_output,
    Arg<Ring_F32Buffer, "", [MemRead]>:$partial_lse,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$acc_output,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$acc_lse,
    Ring_RowRange:$rows
  );
  let assemblyFormat = [{
    `ins` `(` $partial_output `,` $partial_lse `:` type($partial_output) `,` type($partial_lse) `)`
    `outs` `(` $acc_output `,` $acc_lse `:` type($acc_output) `,` type($acc_lse) `)`
    `rows` `=` $rows attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_FinalizeOp : Ring_Op<"finalize"> {
  let summary = "write the fp32 accumulator as O (input dtype) and LSE (f32)";
  let description = [{
    Rounds O to the output's element type (round to nearest even) and copies
    LSE. This is the only rounding of the result.

    ```mlir
    ring.finalize ins(%acc_o, %acc_l : memref<1x4x64x64xf32>, memref<1x4x64xf32>)
        outs(%o, %lse : memref<1x4x64x64xbf16>, memref<1x4x64xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Ring_F32Buffer, "", [MemRead]>:$acc_output,
    Arg<Ring_F32Buffer, "", [MemRead]>:$acc_lse,
    Arg<Ring_AnyBuffer, "", [MemWrite]>:$output,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$lse
  );
  let assemblyFormat = [{
    `ins` `(` $acc_output `,` $acc_lse `:` type($acc_output) `,` type($acc_lse) `)`
    `outs` `(` $output `,` $lse `:` type($output) `,` type($lse) `)` attr-dict
  }];
  let hasVerifier = 1;
}

// Why our own transfer ops rather than upstream `shard.shift`: shard.shift is
// a value-semantics op on tensors, and upstream convert-shard-to-mpi does not
// lower it (DESIGN.md section 5). The ring needs destination buffers (double
// buffering) and a start/wait split for overlap, and must lower to both
// ringrt's MPI and NCCL backends; these ops lower 1:1 to ringrt calls.

def Ring_ShiftOp : Ring_Op<"shift", [AllTypesMatch<["send", "recv"]>]> {
  let summary = "blocking ring shift: send to the ring successor, receive from the predecessor";
  let description = [{
    Sends `send` to ring rank (p+1) mod P and receives the predecessor's
    buffer into `recv`, among the ranks that share this rank's head-group and
    dim-slice coordinates. With `backward` the direction is reversed: it
    sends to (p−1) mod P and receives from (p+1) mod P (the backward half of
    a sliding window's halo exchange). `ring-overlap` splits it into
    `ring.shift_start` / `ring.shift_wait`.

    ```mlir
    ring.shift %k, %kb0 stage 0 : memref<1x4x256x64xbf16>
    ```
  }];
  let arguments = (ins Arg<Ring_AnyBuffer, "", [MemRead]>:$send,
                       Arg<Ring_AnyBuffer, "", [MemWrite]>:$recv,
                       I64Attr:$stage, UnitAttr:$backward);
  let assemblyFormat = "$send `,` $recv `stage` $stage (`backward` $backward^)? attr-dict `:` type($send)";
  let hasVerifier = 1;
}

def Ring_ShiftStartOp : Ring_Op<"shift_start", [AllTypesMatch<["send", "recv"]>]> {
  let summary = "start an asynchronous ring shift";
  let description = [{
    Starts the transfer of `ring.shift`. Until the matching
    `ring.shift_wait`, `send` must not be written and `recv` must not be
    read or written; `ring-verify-schedule` proves it.

    ```mlir
    %t = ring.shift_start %k, %kb0 stage 0 : memref<1x4x256x64xbf16>
    ...
    ring.shift_wait %t
    ```
  }];
  let arguments = (ins Arg<Ring_AnyBuffer, "", [MemRead]>:$send,
                       Arg<Ring_AnyBuffer, "", [MemWrite]>:$recv,
                       I64Attr:$stage, UnitAttr:$backward);
  let results = (outs Ring_TransferType:$transfer);
  let assemblyFormat = "$send `,` $recv `stage` $stage (`backward` $backward^)? attr-dict `:` type($send)";
  let hasVerifier = 1;
}

def Ring_ShiftWaitOp : Ring_Op<"shift_wait"> {
  let summary = "wait for an asynchronous ring shift";
  let description = [{
    ```mlir
    ring.shift_wait %t
    ```
  }];
  let arguments = (ins Arg<Ring_TransferType, "", [MemWrite]>:$transfer);
  let assemblyFormat = "$transfer attr-dict";
  let hasVerifier = 1;
}

def Ring_AllToAllOp : Ring_Op<"all_to_all"> {
  let summary = "all-to-all over the a2a axis: sequence shards <-> head shards";
  let description = [{
    The exchange of the all-to-all (Ulysses) strategy among the U ranks of
    the a2a axis (same ring, head-group and dim-slice coordinates). Buffers
    are `[B, H, S, D]` (or `[B, H, S]` for an LSE); U follows from the
    shapes.

    * `seq_to_heads`: `send` holds every head of the group for this rank's
      share of the ring's local block of S tokens, in ⌈S/U⌉ rows; `recv`
      receives H/U heads (1 replicated key/value head when H < U) for all S
      tokens: rank j gets heads [⌊j·H/U⌋, +H/U), source i's share lands at
      its rows. Shares are near-equal (⌊S/U⌋ rows, one more for i < S mod
      U, ringrt/Layout.h); rows of `send` past the share are a2a padding,
      never sent.
    * `heads_to_seq`: the inverse for query-head tensors (O and LSE); rows
      of `recv` past the rank's share are never written.

    When U does not divide S, the shapes do not imply U: `degree` gives it.

    Blocking and collective over the a2a axis; `id` names it in
    diagnostics. `ring-verify-schedule` proves that every rank of an a2a
    group issues the same all-to-alls in the same order and that they
    deliver every (head, token) where the attention and the caller expect
    it.

    ```mlir
    ring.all_to_all <seq_to_heads> %q, %qh id 0
        : memref<1x8x64x64xbf16>, memref<1x2x256x64xbf16>
    ```
  }];
  let arguments = (ins Arg<Ring_AnyBuffer, "", [MemRead]>:$send,
                       Arg<Ring_AnyBuffer, "", [MemWrite]>:$recv,
                       Ring_A2AModeAttr:$mode,
                       I64Attr:$id,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$degree);
  let assemblyFormat = [{
    $mode $send `,` $recv `id` $id (`degree` $degree^)? attr-dict `:`
    type($send) `,` type($recv)
  }];
  let extraClassDeclaration = [{
    /// The a2a degree U: `degree`, or the one the shapes imply.
    int64_t getA2ADegree();
  }];
  let hasVerifier = 1;
}

def Ring_AllReduceOp : Ring_Op<"all_reduce"> {
  let summary = "in-place sum over the dim-slice axis";
  let description = [{
    Sums `buffer` over the ranks that share this rank's ring and head-group
    coordinates (the m dim slices). Used for partial scores, which makes the
    dim-slice split cost score-sized traffic per stage.

    ```mlir
    ring.all_reduce %s stage 0 : memref<1x8x64x64xf32>
    ```
  }];
  let arguments = (ins Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$buffer,
                       I64Attr:$stage);
  let assemblyFormat = "$buffer `stage` $stage attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

include "dialect/RingGradOps.td"
include "dialect/RingLayerOps.td"

#endif // RING_OPS_TD
