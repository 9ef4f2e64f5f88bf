

func.func @scatter_negative(%yp: memref<1x16x32xf32>, %y: memref<1x16x32xf32>) {
  // expected-error @+1 {{share 1 has -2 rows; each must be in [0, 16]}}
  ring.output_reduce_scatter ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x16x32xf32>) shares = [16, -2, 2]
  return
}

