

func.func @softmax_v_scores(%s: memref<1x1x4x2xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{scores must be 1x1x4x4 (batch, heads, q_rows size, kv_rows size), got 1x1x4x2}}
  ring.block_softmax_v ins(%s, %v : memref<1x1x4x2xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  return
}

