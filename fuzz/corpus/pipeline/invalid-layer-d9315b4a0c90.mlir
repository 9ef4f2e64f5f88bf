

func.func @scatter_rows(%yp: memref<1x16x32xf32>, %y: memref<1x16x32xf32>) {
  // expected-error @+1 {{output has 16 rows; it holds the largest share, 8 rows (shares [8, 8])}}
  ring.output_reduce_scatter ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x16x32xf32>) shares = [8, 8]
  return
}

