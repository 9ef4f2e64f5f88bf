//===- Passes.td - ringc passes ----------------------------*- tablegen -*-===//
//
// This file declares every pass of the ringc pipeline (DESIGN.md section 2).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_TD
#define RINGC_PASSES_TD

include "mlir/Pass/PassBase.td"

def RingVerifyShardingsPass : Pass<"ring-verify-shardings", "ModuleOp"> {
  let summary = "Check that every ring.attention spec can be compiled";
  let description = [{
    Derives the plan of every `ring.attention` from the upstream `shard`
    annotations of its operands (which grid axis is the ring, the head-group
    and the dim-slice axis) and reports, at the op, every spec that ringc
    cannot compile: heads that do not divide into head groups (any sequence
    length splits: uneven parts are padded, ringrt/Layout.h), a head_dim that does not divide into dim
    slices, an unknown grid, a grid axis used for two dimensions, Q, K and V
    split differently, batch split, or an unused grid axis of size > 1.

    Example:

    ```mlir
    shard.grid @g(shape = 3x2)
    ...
    // error: query heads (9) are not divisible by head_groups (2); ...
    %o, %lse = ring.attention %q, %k, %v : ...
    ```

    With `emit-plan-remarks`, it also emits a remark with the derived plan.
  }];
  let options = [
    Option<"emitPlanRemarks", "emit-plan-remarks", "bool", "false",
           "Emit a remark describing the derived plan of every attention">
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def RingPartitionPass : Pass<"ring-partition", "ModuleOp"> {
  let summary = "Turn a global ring.attention spec into a per-rank SPMD function";
  let description = [{
    Rewrites every function that computes a `ring.attention` on
    `shard`-annotated tensors into the per-rank SPMD program:

    * the signature takes the rank's local buffers in destination-passing
      style, `(Q, K, V, O, LSE)` as memrefs of shapes `[B, Hq/n, Ll, D/m]`,
      `[B, Hkv/n, Ll, D/m]` and `[B, Hq/n, Ll]` (Ll = L/P, or ⌈L/P⌉ rows
      of padded parts when P does not divide L): this is the C ABI of the
      artifact;
    * the grid coordinates come from upstream `shard.process_multi_index`;
    * the work is one `ring.local_attention` carrying the `#ring.plan`, which
      is also attached to the function as `ring.plan`;
    * with an all-to-all axis of size U (`a2a_axis`), the buffers hold
      L/(P·U) tokens of every head of the group, and the attention runs on
      head-sharded copies of the ring's whole local block: three
      `ring.all_to_all <seq_to_heads>` fill them (key/value heads
      replicated when Hkv/n < U, with a remark), two
      `ring.all_to_all <heads_to_seq>` return O and LSE;
    * with `grad`, the backward function `(Q, K, V, O, LSE, dO, dQ, dK,
      dV)` has one `ring.local_attention_backward`; with an a2a axis six
      `seq_to_heads` all-to-alls (Q, K, V, O, LSE, dO) surround it and
      three `heads_to_seq` return dQ, dK, dV. Replicated key/value heads
      come back as U heads whose dK/dV `ring.sum_replicas` adds onto the
      owning head (each replica saw only its rank's query heads; a remark
      says so).

    The local Q, K and V already hold the rank's tokens in the order of the
    balance layout (contiguous, zigzag chunks p and 2P−1−p, or striped token
    i·P+p); causal masks are computed from global positions later.

    Why not upstream `shard-partition`: ring attention cannot be partitioned
    as a local op on shards (K and V must travel around the ring), and the
    per-rank program needs destination buffers for the C ABI and for double
    buffering; so this pass localizes the signature itself and leaves the
    distribution to `ring-schedule`.

    Example (P = 4):

    ```mlir
    // before
    %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x8x256x64xbf16>, ...
    // after
    func.func @attn(%q: memref<1x8x64x64xbf16>, %k: memref<1x8x64x64xbf16>,
                    %v: memref<1x8x64x64xbf16>, %o: memref<1x8x64x64xbf16>,
                    %lse: memref<1x8x64xf32>) attributes {ring.plan = #ring.plan<...>} {
      %c = shard.process_multi_index on @ring4 : index
      ring.local_attention ins(%q, %k, %v : ...) outs(%o, %lse : ...)
          coords(%c, %c0, %c0) plan(<...>)
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def RingSchedulePass : Pass<"ring-schedule", "ModuleOp"> {
  let summary = "Expand each ring.local_attention into the P-stage ring schedule";
  let description = [{
    Stage t (0 ≤ t < P) computes the local queries against the K/V block
    that came from ring rank src = (p − t) mod P, merges the fp32 partial
    (O, LSE) into the accumulator with the online-softmax rule, and shifts
    the K/V block on to rank p+1 (all but the last stage). A shift needs
    distinct send and receive buffers, so received blocks ping-pong between
    two buffers per tensor.

    Causal masks are resolved at compile time per stage from the layout:
    fully masked blocks are not emitted, fully visible blocks carry no mask,
    and only diagonal blocks carry `mask<causal>`. Which case applies to a
    rank depends on whether src < p, selected with `scf.if`:

    | layout  | t = 0                          | t > 0, src < p   | t > 0, src > p       |
    |---------|--------------------------------|------------------|----------------------|
    | none    | diagonal                       | full block       | skipped              |
    | zigzag  | Q₀×K₀ diag, Q₁×K diag          | Q × K₀ (half)    | Q₁ × K (half)        |
    | striped | causal (j ≤ i)                 | causal (j ≤ i)   | causal (j < i)       |

    Under zigzag every rank computes the same number of score elements at
    every stage. With dim slices (m > 1) the block is computed as
    `ring.block_scores` + `ring.all_reduce` over the slice axis +
    `ring.block_softmax_v`, and the pass emits a remark with the bytes the
    all-reduce moves per stage. With P = 1 there is one stage and no
    communication.

    **Sliding windows** (`#ring.window` in the plan). Every (query block,
    key block) pair is classified exactly per rank (BlockCases,
    Visibility.h): blocks wholly outside the window are not emitted, blocks
    the window cuts through carry `window<...>` (the kernels mask them),
    and cases whose visibility depends on the rank itself (zigzag chunks
    near the middle of the sequence) are guarded by `scf.if` on the rank.
    The ring then keeps only the stages that hold a visible block for some
    rank: the distances d = (p − src) mod P that no rank needs form runs,
    and the longest run is dropped. The stages are 0, then 1..A forward
    (K/V shifted to p+1, as above) and then 1..B backward (starting again
    from the rank's own block, shifted to p−1 with `ring.shift ... backward`):
    a halo exchange of A + B shifts instead of P − 1 when the window is
    shorter than the rank's share. A causal window under the contiguous
    layout needs A = ⌈left / (L/P)⌉, B = 0; zigzag needs both directions
    (chunk 2P−1−p neighbours chunks on ranks p ± 1). The pass emits a
    remark with the stages and bytes the window saves.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def RingScheduleBackwardPass : Pass<"ring-schedule-backward", "ModuleOp"> {
  let summary = "Expand each ring.local_attention_backward into the P-stage backward ring";
  let description = [{
    The FlashAttention-2 backward on the ring (DESIGN.md section 1). Once per
    rank: D = rowsum(dO∘O) (`ring.grad_delta`; all-reduced over dim slices).
    Stage t holds the K/V block of ring rank src = (p − t) mod P, exactly as
    the forward's stage t, and computes the same blocks (the forward's
    BlockCases: causal skipping, zigzag/striped/none). Each
    `ring.block_attention_backward` recomputes P from LSE and adds to dQ,
    which stays home in fp32, and to a dK/dV accumulator of the block.

    **Which ring variant.** The accumulators travel with their K/V block,
    one hop behind it: stage 0's contribution to a rank's own block stays in
    a home accumulator; at stage t ≥ 1 the rank adds its contribution to a
    fresh accumulator of the block it holds, src = (p − t) mod P. The
    accumulator of the same block that its predecessor finished in stage
    t − 1 travels during stage t (the shift follows the compute in the
    blocking form, so `ring-overlap` starts it at the top of the stage and
    only the `ring.accumulate` after the compute waits for it), and is added
    in. After the last stage the finished accumulator makes one more hop and
    reaches its owner after exactly P − 1 hops, where it joins the home
    accumulator. The variant that starts the accumulator at the owner costs
    P hops; this one saves a whole dK/dV transfer per block.

    **Bytes per stage** (per rank, E the bytes of one local K or V block,
    e its element size): stages 0..P−2 send K and V, 2·E; the dK/dV
    accumulators move P − 1 times (during stages 2..P−1 and once after the
    last), 2·E·4/e each time in fp32 (the default, since the precision of
    merged gradients is a known complaint about existing libraries) or
    2·E·2/e with `grad-comm=bf16`, which halves them. The pass emits a
    remark with the numbers. With dim slices, Q·Kᵀ and dP = dO·Vᵀ are sums
    over head_dim: each block needs two score-sized all-reduces over the
    slice axis (`ring.block_scores` + `ring.all_reduce`), also in a remark,
    and D = rowsum(dO∘O) one row-sized all-reduce.
    With P = 1 there is one stage and no communication.

    **Sliding windows: the halo.** When `planRingStages` truncates the ring
    (the forward's stages 0, 1..A forward, −1..−B backward; see
    ring-schedule), the backward runs the same stages, so K/V move A + B
    times instead of P − 1. Completing the ring would be needed to bring
    travelling accumulators home, so the halo keeps instead the rank's
    partial dK/dV per distance: stage d adds its block's contribution into
    the partial for distance d (A + B fp32 accumulator pairs besides the
    home one; a window short enough for a halo keeps A + B small). The
    partials then go home by two chains of neighbour shifts that add at
    each hop. The partial for distance d of block q = p − d: rank q + A
    sends its distance-A partial to q + A − 1 (`ring.shift ... backward`),
    which adds it into its own distance-(A − 1) partial of the same block
    and sends the sum on, and so on until rank q adds it into its home
    accumulator: A hops. The successors' blocks go the other way, B hops to
    p + 1. This sends A + B dK/dV transfers per rank, one per block and
    hop; accumulators travelling out with the block and back would send
    2A − 1 + 2B − 1. Overlap: the forward blocks' chain can start after
    stage A, so its hop k is emitted in backward stage −k after the compute,
    and `ring-overlap` starts it at the top of that stage; the hops that
    remain after the last stage (the forward chain past B, and the whole
    backward chain) run in extra `ring.stage` rounds (indices S, S + 1, …),
    a round's two opposite hops in flight together. With `grad-comm=bf16`
    each hop's payload is packed (`ring.convert`) at the end of the stage
    before it. The pass emits a remark with the stages, the hops and the
    bytes the halo saves against the full ring ((P − 1 − A − B) shifts of
    K/V and of dK/dV). A window that leaves blocks visible at every
    distance keeps the full ring above.

    ```mlir
    ring.stage 2 {
      ring.zero %dk1 : memref<1x2x64x64xf32>
      ring.zero %dv1 : memref<1x2x64x64xf32>
      ring.block_attention_backward ins(%q, %kb1, %vb1, %do, %lse, %delta : ...)
          outs(%dq, %dk1, %dv1 : ...) q_owner(%p) kv_owner(%src) ...
      ring.shift %dk0, %dk_recv stage 2 : memref<1x2x64x64xf32>
      ring.shift %dv0, %dv_recv stage 2 : memref<1x2x64x64xf32>
      ring.accumulate ins(%dk_recv : ...) outs(%dk1 : ...)
      ring.accumulate ins(%dv_recv : ...) outs(%dv1 : ...)
      ring.shift %kb1, %kb0 stage 2 : memref<1x2x64x64xbf16>
      ring.shift %vb1, %vb0 stage 2 : memref<1x2x64x64xbf16>
    }
    ```
  }];
  let options = [
    Option<"gradComm", "grad-comm", "std::string", "\"fp32\"",
           "Element type of the travelling dK/dV accumulators: fp32 or bf16 "
           "(half the bytes)">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def RingOverlapPass : Pass<"ring-overlap", "ModuleOp"> {
  let summary = "Overlap each stage's K/V transfer with its compute";
  let description = [{
    Splits every blocking `ring.shift` of stage t into a `ring.shift_start`
    at the top of the stage, before the stage's compute, and a
    `ring.shift_wait` where the shift was, after the compute and before the
    next stage reads the received buffer. The schedule's ping-pong buffers
    make this legal: the buffer being received into is not the one the
    stage computes on. The pass checks that nothing in the stage reads or
    writes the receive buffer, or writes the send buffer, before hoisting;
    a shift that cannot be hoisted stays blocking and gets a remark. The
    backward ring's dK/dV shifts overlap the same way: the schedule sends,
    in stage t, the accumulator finished in stage t − 1, so only the
    accumulate after the compute waits for it.

    ```mlir
    ring.stage 1 {
      %t = ring.shift_start %kb0, %kb1 stage 1 : memref<...>
      ring.block_attention ins(%q, %kb0, %vb0 : ...) ...
      ring.merge ...
      ring.shift_wait %t
    }
    ```
  }];
}

def RingFuseMergePass : Pass<"ring-fuse-merge", "ModuleOp"> {
  let summary = "Fuse each block attention with the merge of its partial";
  let description = [{
    Rewrites every `ring.block_attention` whose partial (O, LSE) is read
    only by the `ring.merge` that follows it (same rows, nothing in between
    touching the partial or the accumulator) into one
    `ring.block_attention_accumulate` on the accumulator: the kernel merges
    its block in registers in its epilogue, so the fp32 partial is neither
    written nor read back, and the separate merge kernel disappears.

    Blocks that no earlier op merged into (the first blocks after the
    `ring.fill_partial` of the accumulator, on disjoint rows, before any
    branch) get `first`: they write their result without reading the
    accumulator. When the `first` blocks cover every row of the
    accumulator, the `ring.fill_partial` is removed; otherwise it stays, so
    a row that no stage touches still finalizes to O = 0, LSE = −inf.
    Partial buffers left without readers are removed.

    The dim-slice path (`ring.block_scores` + `ring.all_reduce` +
    `ring.block_softmax_v` + `ring.merge`) is left unfused: its softmax
    kernel is SIMT with one warp per row and its merge is the small part.

    It runs at the end of the overlapped phase (after `ring-overlap`, before
    `ring-verify-schedule`, which proves the fused schedule); `ringc
    --no-fuse-merge` and the pipelines' `fuse-merge=false` skip it.

    ```mlir
    // before
    ring.fill_partial %ao, %al : ...
    ring.stage 0 {
      ring.block_attention ins(%q, %k, %v : ...) outs(%po, %pl : ...) ... q_rows = [0, 64] ...
      ring.merge ins(%po, %pl : ...) outs(%ao, %al : ...) rows = [0, 64]
    }
    // after
    ring.stage 0 {
      ring.block_attention_accumulate ins(%q, %k, %v : ...) acc(%ao, %al : ...)
          ... q_rows = [0, 64] ... first
    }
    ```
  }];
}

def RingVerifySchedulePass : Pass<"ring-verify-schedule", "ModuleOp"> {
  let summary = "Prove that a per-rank ring schedule is deadlock-free and exact";
  let description = [{
    Executes the per-rank program symbolically for every grid coordinate
    (evaluating the index arithmetic, `shard.process_multi_index` and
    `scf.if`), and proves:

    * **matching**: all ranks of a ring issue the same sequence of shifts
      (stage and bytes), so every send has exactly one matching receive on
      the peer in the same stage and the ring cannot deadlock; every started
      transfer is waited on exactly once; the ranks of a dim-slice group issue
      the same all-reduces;
    * **data flow**: it tracks which rank's K/V block each buffer holds, and
      checks that every block op's `kv_owner` names that rank and `q_owner`
      names the rank itself; no op reads a buffer whose transfer has not
      been waited on, and no transfer writes a buffer that is in flight;
    * **coverage**: every (query, key) pair that the mask leaves visible is
      computed exactly once per rank, across the whole grid, with a mask
      wherever the block is not fully visible; every partial result is
      merged exactly once;
    * **accumulators**: row by row, every merge (`ring.merge`, or
      `ring.block_attention_accumulate` without `first`) reads rows that a
      `ring.fill_partial` or a `first` block initialised, a `first` block
      never overwrites merged rows, the finalized accumulator has every row
      initialised, and every accumulator merged into is finalized afterwards
      (a fused op on the wrong buffers loses its block).

    For a backward function (`ring.backward`, from
    `ring-schedule-backward`) it proves matching as above, and, following
    K/V blocks, D, scores and gradient accumulators through the buffers in
    lockstep:

    * every visible (query, key) pair contributes exactly once to the
      rank's dQ and exactly once to the owner's dK and dV (with masks where
      the block is not fully visible); no accumulator mixes two blocks;
    * every dK/dV accumulator ends on its owner after exactly P − 1 hops
      (a window's halo: after max(A, B) hops, the longer return chain;
      shifts marked `backward` deliver from the successor);
    * D is computed (and all-reduced over dim slices) and scores are
      all-reduced before use; no in-flight buffer is read or written.

    Each failure is an error at the op involved naming the rank, the stage
    and the blocks. With `emit-work`, it also reports, per stage, the score
    elements every ring rank computes (the load balance of the layout).
  }];
  let options = [
    Option<"emitWork", "emit-work", "bool", "false",
           "Emit a remark per stage with the score elements each ring rank "
           "computes">
  ];
}

#endif // RINGC_PASSES_TD
