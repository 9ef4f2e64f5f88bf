

func.func @finalize_shapes(%ao: memref<1x1x8x8xf32>, %al: memref<1x1x8xf32>, %o: memref<1x1x4x8xf32>, %l: memref<1x1x4xf32>) {
  // expected-error @+1 {{the accumulator 1x1x8x8/1x1x8 and the outputs 1x1x4x8/1x1x4 must have equal shapes}}
  ring.finalize ins(%ao, %al : memref<1x1x8x8xf32>, memref<1x1x8xf32>) outs(%o, %l : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

