

// CHECK-LABEL: func.func @block
// CHECK: ring.block_attention {{.+}} mask<none> layout<none> window<left = 4, right = 2> ring_size = 2
// CHECK: ring.shift %{{.+}}, %{{.+}} stage 0 backward :
// CHECK: ring.shift_start %{{.+}}, %{{.+}} stage 1 backward :
func.func @block(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %po: memref<1x1x8x8xf32>, %pl: memref<1x1x8xf32>, %kb: memref<1x1x8x8xf32>, %p: index) {
  ring.block_attention ins(%q, %k, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%po, %pl : memref<1x1x8x8xf32>, memref<1x1x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> window<left = 4, right = 2> ring_size = 2 scale = 0.35
  ring.shift %k, %kb stage 0 backward : memref<1x1x8x8xf32>
  %t = ring.shift_start %k, %kb stage 1 backward : memref<1x1x8x8xf32>
  ring.shift_wait %t
  return
}
