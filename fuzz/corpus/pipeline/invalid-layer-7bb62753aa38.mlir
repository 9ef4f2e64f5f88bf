

func.func @out_project_shapes(%o: memref<1x4x16x16xf32>, %wo: memref<64x32xf32>, %yp: memref<1x8x32xf32>) {
  // expected-error @+1 {{input [1, 4, 16, 16], weight [64, 32] and partial [1, 8, 32] do not agree: weight must be [H*D, d_model] = [64, 32] and partial [B, L, d_model]}}
  ring.out_project ins(%o, %wo : memref<1x4x16x16xf32>, memref<64x32xf32>) outs(%yp : memref<1x8x32xf32>)
  return
}

