

func.func @huge_buffer(%a: memref<4611686018427387904x4xf32>, %b: memref<4611686018427387904x4xf32>) {
  // expected-error @+1 {{operand #0 of shape 4611686018427387904x4 is too large: its byte size overflows 64 bits}}
  ring.shift %a, %b stage 0 : memref<4611686018427387904x4xf32>
  return
}

