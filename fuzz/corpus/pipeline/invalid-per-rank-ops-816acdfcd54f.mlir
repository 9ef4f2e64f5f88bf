

func.func @merge_rows(%po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %ao: memref<1x1x8x8xf32>, %al: memref<1x1x8xf32>) {
  // expected-error @+1 {{rows = [6, 4] selects rows [6, 10) but the buffer has 8 rows}}
  ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x8x8xf32>, memref<1x1x8xf32>) rows = [6, 4]
  return
}

