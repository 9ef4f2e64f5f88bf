

func.func @merge_partial_too_short(%po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %ao: memref<1x1x8x8xf32>, %al: memref<1x1x8xf32>) {
  // expected-error @+1 {{rows = [0, 8] needs 8 partial rows but the partial has 4}}
  ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x8x8xf32>, memref<1x1x8xf32>) rows = [0, 8]
  return
}

