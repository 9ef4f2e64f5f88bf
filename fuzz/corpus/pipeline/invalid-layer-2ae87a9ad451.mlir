

func.func @reduce_bias(%yp: memref<1x16x32xf32>, %bo: memref<16xf32>, %y: memref<1x16x32xf32>) {
  // expected-error @+1 {{bias must be [32], got [16]}}
  ring.output_all_reduce ins(%yp, %bo : memref<1x16x32xf32>, memref<16xf32>) outs(%y : memref<1x16x32xf32>)
  return
}

