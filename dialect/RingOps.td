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

    How the work spreads over devices comes from the `shard.shard`
    annotations of the operands (see the dialect documentation); the
    `ring-verify-shardings` pass checks them.

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
    OptionalAttr<F64Attr>:$scale
  );
  let results = (outs
    Ring_QKVTensor:$output,
    Ring_LseTensor:$lse
  );

  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `` $mask^)?
    (`balance` `` $balance^)?
    (`scale` `(` $scale^ `)`)?
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

#endif // RING_OPS_TD
