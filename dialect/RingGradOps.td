//===- RingGradOps.td - backward-pass operations of `ring` -*- tablegen -*-===//
//
// This file defines the per-rank operations of the attention backward pass
// (FlashAttention-2 form, DESIGN.md section 1). It is included by
// RingOps.td and shares its notation for row ranges, owners and layouts.
//
//===----------------------------------------------------------------------===//

#ifndef RING_GRAD_OPS_TD
#define RING_GRAD_OPS_TD

def Ring_LocalAttentionBackwardOp : Ring_Op<"local_attention_backward",
    [AttrSizedOperandSegments]> {
  let summary = "one rank's share of the attention backward pass (partitioned phase)";
  let description = [{
    The per-rank backward of a `ring.attention` with `grad`: from the rank's
    local Q, K, V, the forward's O and LSE and the output gradient dO, writes
    the rank's dQ, dK and dV (input dtype; fp32 accumulation throughout).
    `ring-schedule-backward` expands it into the P-stage backward ring.
    With packed documents (`max_docs` in the plan) `docs(%cu)` is the
    backward function's `cu_seqlens`.

    ```mlir
    ring.local_attention_backward
        ins(%q, %k, %v, %o, %lse, %do : memref<1x4x64x64xbf16>, memref<1x4x64x64xbf16>,
            memref<1x4x64x64xbf16>, memref<1x4x64x64xbf16>, memref<1x4x64xf32>,
            memref<1x4x64x64xbf16>)
        outs(%dq, %dk, %dv : memref<1x4x64x64xbf16>, memref<1x4x64x64xbf16>,
             memref<1x4x64x64xbf16>)
        coords(%p, %c0, %c0) plan(#ring.plan<...>)
    ```
  }];
  let arguments = (ins
    Ring_AnyBuffer:$query, Ring_AnyBuffer:$key, Ring_AnyBuffer:$value,
    Ring_AnyBuffer:$output, Ring_F32Buffer:$lse, Ring_AnyBuffer:$grad_output,
    Ring_AnyBuffer:$grad_query, Ring_AnyBuffer:$grad_key,
    Ring_AnyBuffer:$grad_value,
    Optional<Ring_DocBounds>:$documents,
    Variadic<Index>:$coords,
    Ring_PlanAttr:$plan
  );
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $output `,` $lse `,` $grad_output `:`
      type($query) `,` type($key) `,` type($value) `,` type($output) `,`
      type($lse) `,` type($grad_output) `)`
    `outs` `(` $grad_query `,` $grad_key `,` $grad_value `:` type($grad_query)
      `,` type($grad_key) `,` type($grad_value) `)`
    (`docs` `(` $documents^ `:` type($documents) `)`)?
    (`coords` `(` $coords^ `)`)? `plan` `(` $plan `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_ZeroOp : Ring_Op<"zero"> {
  let summary = "set an fp32 gradient accumulator to zero";
  let description = [{
    ```mlir
    ring.zero %dk_acc : memref<1x2x64x64xf32>
    ```
  }];
  let arguments = (ins Arg<Ring_F32Buffer, "", [MemWrite]>:$buffer);
  let assemblyFormat = "$buffer attr-dict `:` type($buffer)";
}

def Ring_GradDeltaOp : Ring_Op<"grad_delta"> {
  let summary = "D = rowsum(dO ∘ O) of the backward pass, in fp32";
  let description = [{
    `delta[b,h,i] = Σ_d dO[b,h,i,d]·O[b,h,i,d]` for every local row (fp32;
    with dim slices a partial sum, which `ring.all_reduce` completes).

    ```mlir
    ring.grad_delta ins(%o, %do : memref<1x4x64x64xbf16>, memref<1x4x64x64xbf16>)
        outs(%delta : memref<1x4x64xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$output,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$grad_output,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$delta
  );
  let assemblyFormat = [{
    `ins` `(` $output `,` $grad_output `:` type($output) `,` type($grad_output) `)`
    `outs` `(` $delta `:` type($delta) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_BlockAttentionBackwardOp : Ring_Op<"block_attention_backward",
    [AttrSizedOperandSegments]> {
  let summary = "FlashAttention-2 backward of a row range of Q against one K/V block";
  let description = [{
    For every batch b, local query head h (key/value head h/r) and query row
    i in `q_rows`, key row j in `kv_rows` that the mask leaves visible (see
    the notation of RingOps.td), with P recomputed from the forward's LSE:

    ```
    s    = scale · Q_i·K_j          (or scale · scores[b,h,i−q0,j−k0])
    p    = exp(s − lse_i)
    dp   = dO_i·V_j                 (or score_grad[b,h,i−q0,j−k0])
    ds   = p · (dp − delta_i)
    dV_j += p · dO_i
    dQ_i += scale · ds · K_j
    dK_j += scale · ds · Q_i
    ```

    and adds them to the fp32 accumulators `grad_query` (rows of Q) and
    `grad_key`, `grad_value` (rows of the K/V block); with GQA dK and dV sum
    over the r query heads of a key/value head. A row whose LSE is −inf
    (every score masked) contributes nothing. With `docs(%cu)` (packed
    documents) a pair counts only when both lie in one document. With dim slices, `scores` and
    `score_grad` hold the all-reduced Q·Kᵀ and dO·Vᵀ of the block
    (`ring.block_scores` + `ring.all_reduce`); otherwise they are computed
    from the rank's full head_dim.

    ```mlir
    ring.block_attention_backward
        ins(%q, %kb, %vb, %do, %lse, %delta : memref<1x4x64x64xbf16>, ...)
        outs(%dq, %dk, %dv : memref<1x4x64x64xf32>, memref<1x2x64x64xf32>, memref<1x2x64x64xf32>)
        q_owner(%p) kv_owner(%src) q_rows = [0, 64] kv_rows = [0, 64]
        mask<causal> layout<none> ring_size = 2 scale = 1.250000e-01
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$query,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$key,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$value,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$grad_output,
    Arg<Ring_F32Buffer, "", [MemRead]>:$lse,
    Arg<Ring_F32Buffer, "", [MemRead]>:$delta,
    Arg<Optional<Ring_F32Buffer>, "", [MemRead]>:$scores,
    Arg<Optional<Ring_F32Buffer>, "", [MemRead]>:$score_grad,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$grad_query,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$grad_key,
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$grad_value,
    Index:$q_owner, Index:$kv_owner,
    Optional<Ring_DocBounds>:$documents,
    Ring_RowRange:$q_rows, Ring_RowRange:$kv_rows,
    Ring_MaskAttr:$mask, Ring_BalanceAttr:$layout,
    OptionalAttr<Ring_WindowAttr>:$window,
    I64Attr:$ring_size, F64Attr:$scale, Ring_SeqLenAttr:$seq_len
  );
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $grad_output `,` $lse `,` $delta `:`
      type($query) `,` type($key) `,` type($value) `,` type($grad_output) `,`
      type($lse) `,` type($delta) `)`
    (`scores` `(` $scores^ `,` $score_grad `:` type($scores) `,` type($score_grad) `)`)?
    `outs` `(` $grad_query `,` $grad_key `,` $grad_value `:` type($grad_query)
      `,` type($grad_key) `,` type($grad_value) `)`
    `q_owner` `(` $q_owner `)` `kv_owner` `(` $kv_owner `)`
    (`docs` `(` $documents^ `:` type($documents) `)`)?
    `q_rows` `=` $q_rows `kv_rows` `=` $kv_rows
    `mask` `` $mask `layout` `` $layout (`window` `` $window^)? `ring_size` `=` $ring_size `scale` `=` $scale
    (`seq_len` `=` $seq_len^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_AccumulateOp : Ring_Op<"accumulate"> {
  let summary = "add a gradient buffer into an fp32 accumulator";
  let description = [{
    `acc += widen(src)` elementwise (src f32, or bf16 when gradients travel
    in bf16). Used where a travelling dK/dV accumulator meets the next
    contribution, and where it arrives home.

    ```mlir
    ring.accumulate ins(%recv : memref<1x2x64x64xf32>) outs(%acc : memref<1x2x64x64xf32>)
    ```
  }];
  let arguments = (ins Arg<Ring_AnyBuffer, "", [MemRead]>:$source,
                       Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$accumulator);
  let assemblyFormat = [{
    `ins` `(` $source `:` type($source) `)` `outs` `(` $accumulator `:` type($accumulator) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_ConvertOp : Ring_Op<"convert"> {
  let summary = "copy a buffer, converting its element type (round to nearest even)";
  let description = [{
    Writes the fp32 gradient accumulators as dQ, dK, dV in the input dtype,
    and packs/unpacks bf16 gradients for `--grad-comm=bf16`.

    ```mlir
    ring.convert ins(%dq_acc : memref<1x4x64x64xf32>) outs(%dq : memref<1x4x64x64xbf16>)
    ```
  }];
  let arguments = (ins Arg<Ring_AnyBuffer, "", [MemRead]>:$source,
                       Arg<Ring_AnyBuffer, "", [MemWrite]>:$dest);
  let assemblyFormat = [{
    `ins` `(` $source `:` type($source) `)` `outs` `(` $dest `:` type($dest) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_SumReplicasOp : Ring_Op<"sum_replicas"> {
  let summary = "sum the gradients of a replicated key/value head";
  let description = [{
    When an all-to-all plan replicates key/value heads (GQA with Hkv / n
    smaller than the a2a degree U), each of the R = U / (Hkv / n) ranks that
    hold a replica of head h computes dK/dV of h from its own query heads
    only. The backward's `heads_to_seq` all-to-all brings the replicas home
    as U heads (replicas of one head adjacent), and this op adds them onto
    the owning head:
    `dest[b, h, s, d] = Σ_{r < R} source[b, h·R + r, s, d]`, R = Hs / Hd,
    summed in fp32 and rounded once to dest's element type (round to nearest
    even).

    With `rows`, only rows `s < rows` of every head are summed and written;
    the rest of dest is left untouched. The a2a backward passes the rank's
    share of the ring's local block when U does not divide it (the share
    is shorter than the buffers, ringrt/Layout.h a2aShareRows): its a2a
    padding rows are never written, as the all-to-all never writes them.
    ```mlir
    ring.sum_replicas ins(%dk_rep : memref<1x4x16x64xbf16>)
        outs(%dk : memref<1x2x16x64xbf16>)
    ring.sum_replicas ins(%dk_rep : memref<1x4x16x64xbf16>)
        outs(%dk : memref<1x2x16x64xbf16>) rows %share
    ```
  }];
  let arguments = (ins Arg<Ring_AnyBuffer, "", [MemRead]>:$source,
                       Arg<Ring_AnyBuffer, "", [MemWrite]>:$dest,
                       Optional<Index>:$rows);
  let assemblyFormat = [{
    `ins` `(` $source `:` type($source) `)` `outs` `(` $dest `:` type($dest) `)` (`rows` $rows^)? attr-dict
  }];
  let extraClassDeclaration = [{
    /// The replicas per destination head (R).
    int64_t getReplicas();
  }];
  let hasVerifier = 1;
}

#endif // RING_GRAD_OPS_TD
