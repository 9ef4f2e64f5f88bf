

// seq_len must match the buffers: 9 tokens over a ring of 2 pad to 5 rows.
func.func @seq_len_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{seq_len = 9 over a ring of 2 (none) needs buffers of 5 rows, not 4}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 seq_len = 9
  return
}

