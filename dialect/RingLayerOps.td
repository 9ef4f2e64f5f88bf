//===- RingLayerOps.td - the whole attention layer ---------*- tablegen -*-===//
//
// This file defines the ops of the whole attention layer: the spec-level
// `ring.attention_layer` (X and the projection weights in, Y and LSE out)
// and the per-rank projection and reduction ops that ring-partition places
// around the ring.
//
//===----------------------------------------------------------------------===//

#ifndef RING_LAYER_OPS_TD
#define RING_LAYER_OPS_TD

def Ring_LayerTensor : RankedTensorOf<[BF16, F16, F32]>;

def Ring_AttentionLayerOp : Ring_Op<"attention_layer", [
    Pure,
    AllElementTypesMatch<["x", "wq", "wk", "wv", "wo", "y"]>
  ]> {
  let summary = "multi-head attention with its QKV and output projections";
  let description = [{
    The whole attention layer of both seed papers, on global tensors:
    `Q = X W_q + b_q`, `K = X W_k + b_k`, `V = X W_v + b_v`, then
    attention exactly as `ring.attention` (mask, balance, scale, sliding
    `window` and packed documents `max_docs`, with their meaning there), then
    `Y = O W_o + b_o`. LSE of every score row is an output too.

    * X is `[B, L, d_model]`; W_q is `[d_model, Hq·D]`; W_k and W_v are
      `[d_model, Hkv·D]`; W_o is `[Hq·D, d_model]`; Y is `[B, L, d_model]`;
      LSE is `[B, Hq, L]` in f32. `heads` gives Hq; D is W_q's columns / Hq
      and Hkv is W_k's columns / D.
    * Weight layout (fixed): the columns of W_q are Hq blocks of D, head h at
      columns h·D … h·D + D − 1; W_k and W_v hold Hkv blocks the same way;
      the rows of W_o follow W_q's columns.
    * `bias(%bq, %bk, %bv, %bo)` adds biases `[Hq·D]`, `[Hkv·D]`, `[Hkv·D]`,
      `[d_model]`.
    * With `max_docs = N` the documents' boundaries are a runtime input
      as for `ring.attention`: the per-rank function and the artifact's
      layer entry take `cu_seqlens` (N + 1 int32) after the tensors, and a
      token's Y mixes only the keys of its own document. A window or
      documents mask the attention only; the projections are per token.
    * The projections and attention accumulate in fp32; Q, K, V and O are
      rounded to the element type (as the attention kernels read and write
      them), Y once at the end.

    Sharding (upstream `shard` annotations; all operands annotated on one
    grid, or none):

    * X is split on its sequence dimension (dim 1) over the **ring** axis;
    * W_q, W_k, W_v are split on their columns (dim 1) over
      `[head_group_axis]` or `[head_group_axis, dim_slice_axis]`: the
      column dimension is read as `[H, D]`, so the first axis takes whole
      heads (groups of Hq/n heads) and the second a slice D/m of every
      head: the two-level paper's layout. To split dim slices alone, list
      a head-group axis of size 1 first. Their biases split the same way;
    * W_o is split on its rows (dim 0) the same way, and b_o not at all.

    After `ring-partition` each rank projects its own tokens with its own
    weight columns (Q, K, V only for its slice of each head), runs the
    ring, projects its O with its W_o rows, and the partial Y are summed
    over the head-group × dim-slice ranks of its ring coordinate by
    `ring.output_all_reduce` (an all-reduce: each of them holds the whole
    Y of its tokens — Megatron's row-parallel pattern), or with
    `output<reduce_scatter>` by `ring.output_reduce_scatter` (a
    reduce-scatter onto the sequence: each holds a contiguous share of
    those tokens' Y, so Y is sequence-sharded over all ranks;
    `#ring.layer_output` says which rows).

    ```mlir
    %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 mask<causal>
        window<left = 64, right = -1> max_docs(8)
        : tensor<1x256x128xbf16>, tensor<128x256xbf16>, tensor<128x128xbf16>,
          tensor<128x128xbf16>, tensor<256x128xbf16>
        -> tensor<1x256x128xbf16>, tensor<1x4x256xf32>
    ```
  }];

  let arguments = (ins
    Ring_LayerTensor:$x,
    Ring_LayerTensor:$wq,
    Ring_LayerTensor:$wk,
    Ring_LayerTensor:$wv,
    Ring_LayerTensor:$wo,
    Variadic<Ring_LayerTensor>:$biases,
    ConfinedAttr<I64Attr, [IntPositive]>:$heads,
    DefaultValuedAttr<Ring_MaskAttr, "::mlir::ring::MaskKind::none">:$mask,
    OptionalAttr<Ring_BalanceAttr>:$balance,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$grad,
    OptionalAttr<Ring_WindowAttr>:$window,
    OptionalAttr<I64Attr>:$max_docs,
    OptionalAttr<Ring_LayerOutputAttr>:$output
  );
  let results = (outs
    Ring_LayerTensor:$y,
    Ring_LseTensor:$lse
  );

  let assemblyFormat = [{
    $x `,` $wq `,` $wk `,` $wv `,` $wo
    (`bias` `(` $biases^ `:` type($biases) `)`)?
    `heads` `=` $heads
    (`mask` `` $mask^)?
    (`balance` `` $balance^)?
    (`window` `` $window^)?
    (`scale` `(` $scale^ `)`)?
    (`grad` $grad^)?
    (`max_docs` `(` $max_docs^ `)`)?
    (`output` `` $output^)?
    attr-dict `:` type($x) `,` type($wq) `,` type($wk) `,` type($wv) `,`
    type($wo) `->` type($y) `,` type($lse)
  }];

  let extraClassDeclaration = [{
    /// D: W_q's columns / heads (0 when they do not divide).
    int64_t getHeadDim();
    /// Hkv: W_k's columns / D.
    int64_t getKvHeads();
    ::mlir::ring::Balance getEffectiveBalance();
    double getEffectiveScale();
    bool isCausal() { return getMask() == ::mlir::ring::MaskKind::causal; }
  }];

  let hasVerifier = 1;
}

def Ring_ProjectOp : Ring_Op<"project"> {
  let summary = "input projection of a rank's tokens into Q, K or V";
  let description = [{
    With local X `[B, Ll, d_model]` and local weight columns W
    `[d_model, H·Dl]` (head h at columns h·Dl … h·Dl + Dl − 1), writes
    `out[b, h, l, d] = Σ_c X[b, l, c] · W[c, h·Dl + d] (+ bias[h·Dl + d])`
    with fp32 accumulation, rounded to out's element type: Q, K or V
    directly in the `[B, H, Ll, Dl]` layout the attention kernels read (no
    transpose through memory).

    ```mlir
    ring.project ins(%x, %wq : memref<1x64x128xbf16>, memref<128x128xbf16>)
        outs(%q : memref<1x4x64x32xbf16>)
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$input,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$weight,
    Arg<Optional<Ring_AnyBuffer>, "", [MemRead]>:$bias,
    Arg<Ring_AnyBuffer, "", [MemWrite]>:$output
  );
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight (`,` $bias^)? `:` type($input) `,` type($weight) (`,` type($bias)^)? `)`
    `outs` `(` $output `:` type($output) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_OutProjectOp : Ring_Op<"out_project"> {
  let summary = "a rank's partial output projection (before the reduction)";
  let description = [{
    With local O `[B, H, Ll, Dl]` (as attention writes it) and local W_o rows
    `[H·Dl, d_model]`, writes the fp32 partial
    `partial[b, l, c] = Σ_{h,d} O[b, h, l, d] · W_o[h·Dl + d, c]`. The
    partials of the head-group × dim-slice ranks sum to Y
    (`ring.output_all_reduce`).

    ```mlir
    ring.out_project ins(%o, %wo : memref<1x4x64x32xbf16>, memref<128x128xbf16>)
        outs(%yp : memref<1x64x128xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Ring_AnyBuffer, "", [MemRead]>:$input,
    Arg<Ring_AnyBuffer, "", [MemRead]>:$weight,
    Arg<Ring_F32Buffer, "", [MemWrite]>:$partial
  );
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight `:` type($input) `,` type($weight) `)`
    `outs` `(` $partial `:` type($partial) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_OutputAllReduceOp : Ring_Op<"output_all_reduce"> {
  let summary = "all-reduce of the partial Y over head groups × dim slices";
  let description = [{
    Sums `partial` in place over the ranks that share this rank's ring
    coordinate (the head-group × dim-slice ranks: first over the dim-slice
    axis, then over the head-group axis, each in coordinate order, so every
    such rank gets the same sums), adds `bias` once, and writes Y rounded
    to its element type. It is an **all-reduce**: every rank of the group
    holds the whole Y `[B, Ll, d_model]` of its tokens afterwards (a
    reduce-scatter is not built). Sends 2·(k−1)/k of the partial's bytes
    per rank per axis of size k.

    ```mlir
    ring.output_all_reduce ins(%yp : memref<1x64x128xf32>)
        outs(%y : memref<1x64x128xbf16>)
    ```
  }];
  let arguments = (ins
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$partial,
    Arg<Optional<Ring_AnyBuffer>, "", [MemRead]>:$bias,
    Arg<Ring_AnyBuffer, "", [MemWrite]>:$output
  );
  let assemblyFormat = [{
    `ins` `(` $partial (`,` $bias^)? `:` type($partial) (`,` type($bias)^)? `)`
    `outs` `(` $output `:` type($output) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Ring_OutputReduceScatterOp : Ring_Op<"output_reduce_scatter"> {
  let summary = "reduce-scatter of the partial Y onto the sequence";
  let description = [{
    Sums `partial` `[B, Ll, d_model]` over the k ranks that share this
    rank's ring coordinate (head groups × dim slices) and leaves each a
    contiguous share of the Ll rows: `shares[j]` rows for the rank of share
    index j = s·n + g (dim slice s, head group g), starting at local row
    `shares[0] + … + shares[j−1]`. `shares` has one entry per rank of the
    group and sums to Ll, so every row is owned exactly once; a share may
    be 0. The sum runs over the dim-slice axis, then the head-group axis,
    each in coordinate order (the order of `ring.output_all_reduce`: the
    same bits). Then `bias` is added once and the share is written to Y
    rounded to its element type: Y `[B, max(shares), d_model]`, rows past
    the share written as 0. It is a **reduce-scatter**: each rank sends
    (k−1)/k of the partial's bytes (an all-reduce: 2·(k−1)/k).

    ```mlir
    ring.output_reduce_scatter ins(%yp : memref<1x64x128xf32>)
        outs(%y : memref<1x16x128xbf16>) shares = [16, 16, 16, 16]
    ```
  }];
  let arguments = (ins
    Arg<Ring_F32Buffer, "", [MemRead, MemWrite]>:$partial,
    Arg<Optional<Ring_AnyBuffer>, "", [MemRead]>:$bias,
    Arg<Ring_AnyBuffer, "", [MemWrite]>:$output,
    DenseI64ArrayAttr:$shares
  );
  let assemblyFormat = [{
    `ins` `(` $partial (`,` $bias^)? `:` type($partial) (`,` type($bias)^)? `)`
    `outs` `(` $output `:` type($output) `)` `shares` `=` $shares attr-dict
  }];
  let extraClassDeclaration = [{
    /// The first local row of share j (the sum of the shares before it).
    int64_t getShareOffset(int64_t j);
  }];
  let hasVerifier = 1;
}

#endif // RING_LAYER_OPS_TD
