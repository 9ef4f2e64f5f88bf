

func.func @project_shapes(%x: memref<1x16x32xf32>, %w: memref<32x48xf32>, %q: memref<1x4x16x16xf32>) {
  // expected-error @+1 {{input [1, 16, 32], weight [32, 48] and output [1, 4, 16, 16] do not agree: weight must be [d_model, H*D] = [32, 64]}}
  ring.project ins(%x, %w : memref<1x16x32xf32>, memref<32x48xf32>) outs(%q : memref<1x4x16x16xf32>)
  return
}

