

func.func @sum_replicas_type(%rep: memref<1x4x16x64xf32>, %dk: memref<1x2x16x64xbf16>) {
  // expected-error @+1 {{sums 'f32' replicas into 'bf16'; source and dest need the same element type}}
  ring.sum_replicas ins(%rep : memref<1x4x16x64xf32>) outs(%dk : memref<1x2x16x64xbf16>)
  return
}
