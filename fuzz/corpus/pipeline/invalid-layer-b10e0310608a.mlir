

func.func @scatter_shapes(%yp: memref<2x16x32xf32>, %y: memref<1x8x32xf32>) {
  // expected-error @+1 {{partial [2, 16, 32] and output [1, 8, 32] must be [B, L, d_model] and [B, rows, d_model] with the same B and d_model}}
  ring.output_reduce_scatter ins(%yp : memref<2x16x32xf32>) outs(%y : memref<1x8x32xf32>) shares = [8, 8]
  return
}
