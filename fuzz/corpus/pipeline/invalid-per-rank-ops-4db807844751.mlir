

// zigzag pads each of the 2P chunks: 7 tokens over a ring of 2 need 2 x 2 rows.
func.func @seq_len_zigzag(%q: memref<1x1x4x8xf32>, %k: memref<1x1x6x8xf32>, %v: memref<1x1x6x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{seq_len = 7 over a ring of 2 (zigzag) needs buffers of 4 rows, not 6}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x6x8xf32>, memref<1x1x6x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<causal> layout<zigzag> ring_size = 2 scale = 0.35 seq_len = 7
  return
}

