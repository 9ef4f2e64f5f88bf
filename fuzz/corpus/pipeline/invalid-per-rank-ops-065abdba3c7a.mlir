

func.func @fill_shapes(%ao: memref<1x1x8x8xf32>, %al: memref<1x2x8xf32>) {
  // expected-error @+1 {{the accumulator must be O [B, H, L, D] and LSE [B, H, L], got 1x1x8x8 and 1x2x8}}
  ring.fill_partial %ao, %al : memref<1x1x8x8xf32>, memref<1x2x8xf32>
  return
}

