

// ring.sum_replicas adds R = Hs / Hd whole heads of equal rows.
func.func @sum_replicas_heads(%rep: memref<1x3x16x64xf32>, %dk: memref<1x2x16x64xf32>) {
  // expected-error @+1 {{source [1, 3, 16, 64] and dest [1, 2, 16, 64] must be static [B, H, S, D] with equal B, S and D, and source heads a multiple of dest heads}}
  ring.sum_replicas ins(%rep : memref<1x3x16x64xf32>) outs(%dk : memref<1x2x16x64xf32>)
  return
}

