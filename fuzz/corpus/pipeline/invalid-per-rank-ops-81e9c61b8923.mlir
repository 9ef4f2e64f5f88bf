

func.func @negative_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %s: memref<1x1x4x4xf32>) {
  // expected-error @+1 {{kv_rows = [-1, 4] selects rows [-1, 3) but the buffer has 4 rows}}
  ring.block_scores ins(%q, %k : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%s : memref<1x1x4x4xf32>) q_rows = [0, 4] kv_rows = [-1, 4]
  return
}

