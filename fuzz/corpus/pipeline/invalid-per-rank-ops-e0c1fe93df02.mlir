

func.func @negative_stage(%a: memref<4xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{stage must be non-negative, got -1}}
  ring.shift %a, %b stage -1 : memref<4xf32>
  return
}

