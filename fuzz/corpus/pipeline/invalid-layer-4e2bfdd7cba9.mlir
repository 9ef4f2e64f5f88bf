

func.func @scatter_uncovered(%yp: memref<1x16x32xf32>, %y: memref<1x8x32xf32>) {
  // expected-error @+1 {{shares [8, 7] cover 15 rows but partial has 16; each of its rows must be owned by exactly one rank, so the shares must sum to 16}}
  ring.output_reduce_scatter ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x8x32xf32>) shares = [8, 7]
  return
}

