

func.func @block_one_boundary(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %po: memref<1x1x8x8xf32>, %pl: memref<1x1x8xf32>, %cu: memref<1xi32>, %c: index) {
  // expected-error @+1 {{docs must be a dense memref of N + 1 >= 2 int32 document boundaries (cu_seqlens), got 'memref<1xi32>'}}
  ring.block_attention ins(%q, %k, %k : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%po, %pl : memref<1x1x8x8xf32>, memref<1x1x8xf32>) q_owner(%c) kv_owner(%c) docs(%cu : memref<1xi32>) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 0.35
  return
}
