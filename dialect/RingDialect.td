//===- RingDialect.td - the ring dialect and its attributes -*- tablegen -*-===//
//
// This file declares the `ring` dialect: distributed attention specs (ring
// attention with sequence parallelism and two-level head partitioning) and
// the per-rank operations the ringc pipeline lowers them to.
//
//===----------------------------------------------------------------------===//

#ifndef RING_DIALECT_TD
#define RING_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Ring_Dialect : Dialect {
  let name = "ring";
  let cppNamespace = "::mlir::ring";
  let summary = "Distributed attention: ring attention and two-level head partitioning";
  let description = [{
    The `ring` dialect describes multi-head attention spread over a grid of
    devices and the per-rank program that computes it.

    A spec is a `ring.attention` on global tensors whose operands are
    annotated with the upstream `shard` dialect. The grid has up to three
    roles, each bound to one grid axis by the dimension it splits:

    * the **ring** axis (size P) splits the sequence dimension `L`;
    * the **head-group** axis (size n) splits the head dimension `H`;
    * the **dim-slice** axis (size m) splits the head dimension `D`.

    Grid axes that no dimension uses must have size 1. Batch is never split.

    Example: ring 4 × head groups 2 × dim slices 2, causal with zigzag load
    balancing, GQA with 32 query heads and 8 key/value heads.

    ```mlir
    shard.grid @cluster(shape = 4x2x2)
    func.func @attn(%q: tensor<1x32x1024x128xbf16>,
                    %k: tensor<1x8x1024x128xbf16>,
                    %v: tensor<1x8x1024x128xbf16>)
        -> (tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>) {
      %s = shard.sharding @cluster split_axes = [[], [1], [0], [2]] : !shard.sharding
      %q1 = shard.shard %q to %s : tensor<1x32x1024x128xbf16>
      %k1 = shard.shard %k to %s : tensor<1x8x1024x128xbf16>
      %v1 = shard.shard %v to %s : tensor<1x8x1024x128xbf16>
      %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> balance<zigzag>
          : tensor<1x32x1024x128xbf16>, tensor<1x8x1024x128xbf16>,
            tensor<1x8x1024x128xbf16>
          -> tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
      return %o, %lse : tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
    }
    ```

    A spec without any `shard` annotation runs on a single device.

    Limits (checked by the verifiers, with the value and the reason):

    * at most 1024 ranks (the product of the grid axes):
      `ring-verify-schedule` executes every rank's schedule symbolically,
      at a cost of ranks × ring stages;
    * every size at least 1, and every tensor's size in fp32 bytes within
      64-bit offsets;
    * `scale` within [FLT_MIN, FLT_MAX / log2(e)] ≈ [1.2e-38, 2.4e38]: the
      kernels compute in fp32 and fold log2(e) into the scale. A scale so
      large that inputs with |q|, |k| ≤ 1 overflow the fp32 logits gets a
      warning from `ring-verify-shardings`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  // `ring.plan` on a per-rank function must be a #ring.plan that matches the
  // function's buffers.
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

class Ring_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ring_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Ring_MaskKind : I32EnumAttr<"MaskKind", "attention mask kind", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"causal", 1>
  ]> {
  let cppNamespace = "::mlir::ring";
  let genSpecializedAttr = 0;
}

def Ring_MaskAttr : EnumAttr<Ring_Dialect, Ring_MaskKind, "mask"> {
  let summary = "attention mask: none or causal";
  let assemblyFormat = "`<` $value `>`";
}

def Ring_Balance : I32EnumAttr<"Balance",
    "how the sequence is laid out over the ring", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"zigzag", 1>,
    I32EnumAttrCase<"striped", 2>
  ]> {
  let cppNamespace = "::mlir::ring";
  let genSpecializedAttr = 0;
}

def Ring_BalanceAttr : EnumAttr<Ring_Dialect, Ring_Balance, "balance"> {
  let summary = "sequence layout over the ring: none (contiguous), zigzag or striped";
  let description = [{
    With P ranks on the ring and L tokens:

    * `none`: rank p holds tokens [p·L/P, (p+1)·L/P).
    * `zigzag`: the sequence is cut into 2P chunks; rank p holds chunks p and
      2P−1−p, in that order. Under a causal mask every rank then does the same
      work at every stage.
    * `striped`: token i lives on rank i mod P, at local position i div P.

    Any L works: when P (zigzag: 2P) does not divide L, the parts hold
    ⌈L/parts⌉ or ⌊L/parts⌋ tokens, every rank's buffers have the rows of the
    largest, and the rows past a part's tokens are padding that the kernels
    mask (the block ops' `seq_len`; ringrt/Layout.h).
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Ring_LayerOutput : I32EnumAttr<"LayerOutput",
    "how the whole layer reduces Y over the head-group x dim-slice ranks", [
    I32EnumAttrCase<"all_reduce", 0>,
    I32EnumAttrCase<"reduce_scatter", 1>
  ]> {
  let cppNamespace = "::mlir::ring";
  let genSpecializedAttr = 0;
}

def Ring_LayerOutputAttr : EnumAttr<Ring_Dialect, Ring_LayerOutput,
                                    "layer_output"> {
  let summary = "the layer's Y reduction: all_reduce or reduce_scatter";
  let description = [{
    How the partial Y of the k = head_groups × dim_slices ranks of one ring
    coordinate is reduced (Megatron's row-parallel pattern):

    * `all_reduce` (default): every one of them holds the whole Y of the
      ring rank's Ll tokens;
    * `reduce_scatter`: each holds a contiguous share of those rows, Y
      sequence-sharded over ring × head groups × dim slices. Group rank
      j = s·n + g (dim slice s, head group g) owns local rows
      [⌊Ll/k⌋·j + min(j, Ll mod k), …) of ⌈Ll/k⌉ rows for j < Ll mod k and
      ⌊Ll/k⌋ otherwise (possibly 0); its Y buffer has ⌈Ll/k⌉ rows and the
      rows past its share are written as 0.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Ring_A2AMode : I32EnumAttr<"A2AMode",
    "the direction of an all-to-all over the a2a axis", [
    I32EnumAttrCase<"seq_to_heads", 0>,
    I32EnumAttrCase<"heads_to_seq", 1>
  ]> {
  let cppNamespace = "::mlir::ring";
  let genSpecializedAttr = 0;
}

def Ring_A2AModeAttr : EnumAttr<Ring_Dialect, Ring_A2AMode, "a2a_mode"> {
  let summary = "seq_to_heads (before the attention) or heads_to_seq (after)";
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Sliding window
//===----------------------------------------------------------------------===//

def Ring_WindowAttr : AttrDef<Ring_Dialect, "Window"> {
  let mnemonic = "window";
  let summary = "a sliding attention window (Mistral/Gemma-style local attention)";
  let description = [{
    Key j is visible to query i (global token positions) only if
    `pos(i) − pos(j) ≤ left` (at most `left` tokens back) and
    `pos(j) − pos(i) ≤ right` (at most `right` tokens ahead); −1 leaves that
    side unlimited. The window combines with the causal mask (both must
    allow the key), so under `mask<causal>` `right` has no effect. Every
    query sees at least its own key, so no row is ever fully masked.

    The window is a property of the spec: `ring-schedule` skips every block
    that lies wholly outside it at compile time (and with it ring stages,
    see the pass), the kernels mask the blocks it cuts through.

    ```mlir
    %o, %lse = ring.attention %q, %k, %v mask<causal> window<left = 128, right = -1> : ...
    ```
  }];
  let parameters = (ins "int64_t":$left, "int64_t":$right);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The visible range of pos(query) − pos(key) under this window and
    /// (when `causal`) the causal mask: [lo, hi], INT64_MIN / INT64_MAX
    /// for an unlimited side.
    std::pair<int64_t, int64_t> diffBounds(bool causal) const;
  }];
}

//===----------------------------------------------------------------------===//
// Plan attribute
//===----------------------------------------------------------------------===//

def Ring_PlanAttr : AttrDef<Ring_Dialect, "Plan"> {
  let mnemonic = "plan";
  let summary = "how one attention is spread over the grid";
  let description = [{
    The plan of a partitioned attention: the global problem, the grid, and
    the grid axis of each role (-1 when the role is absent; `a2a_axis`, the
    all-to-all axis, may be left out then). With
    `d_model` (> 0) the plan is a whole attention layer
    (`ring.attention_layer`): the per-rank function also projects X into
    Q, K, V and O into Y; `bias` says whether the projections add biases.
    Both are omitted when absent. It is attached
    to the per-rank function by `ring-partition` as `ring.plan` and read by
    every later pass, the code generators and the artifact manifest.

    ```mlir
    #ring.plan<grid = @cluster, grid_shape = [4, 2, 2], ring_axis = 0,
               head_group_axis = 1, dim_slice_axis = 2, batch = 1,
               heads = 32, kv_heads = 8, seq = 1024, head_dim = 128,
               element_type = bf16, mask = causal, balance = zigzag,
               scale = 0.088388347648318433 : f64>
    ```

    A sliding window adds `window = #ring.window<left = L, right = R>`.
    Packed variable-length documents add `max_docs = N`: the per-rank
    function then takes `cu_seqlens` (N + 1 int32 document boundaries over
    the global sequence) after its tensors.
    A layer whose Y is reduce-scattered adds
    `layer_output = reduce_scatter`.
  }];
  let parameters = (ins
    "::mlir::FlatSymbolRefAttr":$grid,
    "::mlir::DenseI64ArrayAttr":$grid_shape,
    "int64_t":$ring_axis,
    "int64_t":$head_group_axis,
    "int64_t":$dim_slice_axis,
    "int64_t":$batch,
    "int64_t":$heads,
    "int64_t":$kv_heads,
    "int64_t":$seq,
    "int64_t":$head_dim,
    "::mlir::Type":$element_type,
    "::mlir::ring::MaskKind":$mask,
    "::mlir::ring::Balance":$balance,
    "::mlir::FloatAttr":$scale,
    DefaultValuedParameter<"int64_t", "-1">:$a2a_axis,
    DefaultValuedParameter<"int64_t", "0",
        "d_model of the whole layer (0: attention only)">:$d_model,
    DefaultValuedParameter<"bool", "false",
        "whether the layer's projections have biases">:$bias,
    OptionalParameter<"::mlir::ring::WindowAttr">:$window,
    DefaultValuedParameter<"int64_t", "0",
        "packed documents: the most a call's cu_seqlens holds (0: none)">:$max_docs,
    DefaultValuedParameter<"::mlir::ring::LayerOutput",
        "::mlir::ring::LayerOutput::all_reduce",
        "the layer's Y reduction (omitted: all_reduce)">:$layer_output
  );
  let assemblyFormat = "`<` struct(params) `>`";
  // Every pass may divide by the grid sizes and multiply the shapes: the
  // verifier (AttentionPlan::verify) proves that is safe.
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def Ring_TransferType : TypeDef<Ring_Dialect, "Transfer"> {
  let mnemonic = "transfer";
  let summary = "an in-flight ring transfer started by ring.shift_start";
}

#endif // RING_DIALECT_TD
