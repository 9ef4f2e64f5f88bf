

func.func @dynamic_buffer(%q: memref<1x1x?x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{operand #0 has type 'memref<1x1x?x8xf32>'; ring ops take static buffers with every size >= 1}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  return
}

