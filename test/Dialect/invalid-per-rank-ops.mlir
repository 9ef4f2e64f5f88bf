// RUN: ring-opt %s -split-input-file -verify-diagnostics
// The per-rank ops' verifiers: rows inside their buffers (with checked
// arithmetic), static non-empty buffers, matching accumulators, and the
// plan of ring.local_attention matching its buffers. Each case used to pass
// the verifier and then read out of bounds or crash a pass.

// q_rows = [INT64_MAX, 4]: start + size overflows; it used to wrap around
// and pass the bounds check.
func.func @overflowing_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{q_rows = [9223372036854775807, 4]: start + size overflows 64 bits; the buffer has 4 rows}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [9223372036854775807, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  return
}

// -----

func.func @negative_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %s: memref<1x1x4x4xf32>) {
  // expected-error @+1 {{kv_rows = [-1, 4] selects rows [-1, 3) but the buffer has 4 rows}}
  ring.block_scores ins(%q, %k : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%s : memref<1x1x4x4xf32>) q_rows = [0, 4] kv_rows = [-1, 4]
  return
}

// -----

func.func @zero_ring(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{ring_size 0 is outside [1, 1024]}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 0 scale = 0.35
  return
}

// -----

func.func @dynamic_buffer(%q: memref<1x1x?x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{operand #0 has type 'memref<1x1x?x8xf32>'; ring ops take static buffers with every size >= 1}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  return
}

// -----

func.func @huge_buffer(%a: memref<4611686018427387904x4xf32>, %b: memref<4611686018427387904x4xf32>) {
  // expected-error @+1 {{operand #0 of shape 4611686018427387904x4 is too large: its byte size overflows 64 bits}}
  ring.shift %a, %b stage 0 : memref<4611686018427387904x4xf32>
  return
}

// -----

func.func @merge_rows(%po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %ao: memref<1x1x8x8xf32>, %al: memref<1x1x8xf32>) {
  // expected-error @+1 {{rows = [6, 4] selects rows [6, 10) but the buffer has 8 rows}}
  ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x8x8xf32>, memref<1x1x8xf32>) rows = [6, 4]
  return
}

// -----

func.func @merge_partial_too_short(%po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %ao: memref<1x1x8x8xf32>, %al: memref<1x1x8xf32>) {
  // expected-error @+1 {{rows = [0, 8] needs 8 partial rows but the partial has 4}}
  ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x8x8xf32>, memref<1x1x8xf32>) rows = [0, 8]
  return
}

// -----

func.func @finalize_shapes(%ao: memref<1x1x8x8xf32>, %al: memref<1x1x8xf32>, %o: memref<1x1x4x8xf32>, %l: memref<1x1x4xf32>) {
  // expected-error @+1 {{the accumulator 1x1x8x8/1x1x8 and the outputs 1x1x4x8/1x1x4 must have equal shapes}}
  ring.finalize ins(%ao, %al : memref<1x1x8x8xf32>, memref<1x1x8xf32>) outs(%o, %l : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

func.func @fill_shapes(%ao: memref<1x1x8x8xf32>, %al: memref<1x2x8xf32>) {
  // expected-error @+1 {{the accumulator must be O [B, H, L, D] and LSE [B, H, L], got 1x1x8x8 and 1x2x8}}
  ring.fill_partial %ao, %al : memref<1x1x8x8xf32>, memref<1x2x8xf32>
  return
}

// -----

func.func @softmax_v_scores(%s: memref<1x1x4x2xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{scores must be 1x1x4x4 (batch, heads, q_rows size, kv_rows size), got 1x1x4x2}}
  ring.block_softmax_v ins(%s, %v : memref<1x1x4x2xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  return
}

// -----

func.func @wait_without_start(%t: !ring.transfer) {
  // expected-error @+1 {{waits for a transfer that no ring.shift_start in this function produced}}
  ring.shift_wait %t
  return
}

// -----

func.func @negative_stage(%a: memref<4xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{stage must be non-negative, got -1}}
  ring.shift %a, %b stage -1 : memref<4xf32>
  return
}

// -----

func.func @empty_stage() {
  // An empty region (generic form) is refused by ODS (SizedRegion<1>).
  // expected-error @+1 {{region #0 ('body') failed to verify constraint: region with 1 blocks}}
  "ring.stage"() ({}) {index = 0 : i64} : () -> ()
  return
}

// -----

shard.grid @g(shape = 2)
func.func @local_shapes(%q: memref<1x2x16x8xf32>, %k: memref<1x2x8x8xf32>, %v: memref<1x2x8x8xf32>, %o: memref<1x2x8x8xf32>, %lse: memref<1x2x8xf32>, %c: index) {
  // expected-error @+1 {{query buffer 'memref<1x2x16x8xf32>' does not match the plan's local buffer 'memref<1x2x8x8xf32>'}}
  ring.local_attention ins(%q, %k, %v : memref<1x2x16x8xf32>, memref<1x2x8x8xf32>, memref<1x2x8x8xf32>) outs(%o, %lse : memref<1x2x8x8xf32>, memref<1x2x8xf32>) coords(%c, %c, %c) plan(#ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>)
  return
}

// -----

shard.grid @g(shape = 2)
func.func @local_coords(%q: memref<1x2x8x8xf32>, %k: memref<1x2x8x8xf32>, %v: memref<1x2x8x8xf32>, %o: memref<1x2x8x8xf32>, %lse: memref<1x2x8xf32>, %c: index) {
  // expected-error @+1 {{expects 3 coordinates (ring, head group, dim slice), got 1}}
  ring.local_attention ins(%q, %k, %v : memref<1x2x8x8xf32>, memref<1x2x8x8xf32>, memref<1x2x8x8xf32>) outs(%o, %lse : memref<1x2x8x8xf32>, memref<1x2x8xf32>) coords(%c) plan(#ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>)
  return
}

// -----

shard.grid @g(shape = 2)
// The per-rank function's buffers must be the plan's local shapes (the
// entry point and the checker index them by the plan).
// expected-error @+1 {{buffer 'k' (argument 1) has type 'memref<1x2x4x8xf32>' but the plan's local buffer is 'memref<1x2x8x8xf32>'}}
func.func @abi(%q: memref<1x2x8x8xf32>, %k: memref<1x2x4x8xf32>, %v: memref<1x2x8x8xf32>, %o: memref<1x2x8x8xf32>, %lse: memref<1x2x8xf32>) attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  return
}

// -----

// expected-error @+1 {{'ring.plan' must be a #ring.plan attribute}}
func.func @not_a_plan() attributes {ring.plan = 3 : i64} {
  return
}

// -----

// seq_len must match the buffers: 9 tokens over a ring of 2 pad to 5 rows.
func.func @seq_len_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{seq_len = 9 over a ring of 2 (none) needs buffers of 5 rows, not 4}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 seq_len = 9
  return
}

// -----

// ring.sum_replicas adds R = Hs / Hd whole heads of equal rows.
func.func @sum_replicas_heads(%rep: memref<1x3x16x64xf32>, %dk: memref<1x2x16x64xf32>) {
  // expected-error @+1 {{source [1, 3, 16, 64] and dest [1, 2, 16, 64] must be static [B, H, S, D] with equal B, S and D, and source heads a multiple of dest heads}}
  ring.sum_replicas ins(%rep : memref<1x3x16x64xf32>) outs(%dk : memref<1x2x16x64xf32>)
  return
}

// -----

// zigzag pads each of the 2P chunks: 7 tokens over a ring of 2 need 2 x 2 rows.
func.func @seq_len_zigzag(%q: memref<1x1x4x8xf32>, %k: memref<1x1x6x8xf32>, %v: memref<1x1x6x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{seq_len = 7 over a ring of 2 (zigzag) needs buffers of 4 rows, not 6}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x6x8xf32>, memref<1x1x6x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<causal> layout<zigzag> ring_size = 2 scale = 0.35 seq_len = 7
  return
}

// -----

func.func @sum_replicas_type(%rep: memref<1x4x16x64xf32>, %dk: memref<1x2x16x64xbf16>) {
  // expected-error @+1 {{sums 'f32' replicas into 'bf16'; source and dest need the same element type}}
  ring.sum_replicas ins(%rep : memref<1x4x16x64xf32>) outs(%dk : memref<1x2x16x64xbf16>)
  return
}
