// RUN: ring-opt %s -split-input-file | ring-opt -split-input-file | FileCheck %s

// The spec-level layer op, with and without biases.
// CHECK-LABEL: func.func @layer
// CHECK: ring.attention_layer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} heads = 4 mask<causal> balance<striped>
func.func @layer(%x: tensor<1x64x32xbf16>, %wq: tensor<32x64xbf16>, %wk: tensor<32x32xbf16>, %wv: tensor<32x32xbf16>, %wo: tensor<64x32xbf16>) -> (tensor<1x64x32xbf16>, tensor<1x4x64xf32>) {
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 mask<causal> balance<striped> : tensor<1x64x32xbf16>, tensor<32x64xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<64x32xbf16> -> tensor<1x64x32xbf16>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xbf16>, tensor<1x4x64xf32>
}

// -----

// CHECK-LABEL: func.func @layer_bias
// CHECK: ring.attention_layer {{.*}} bias(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) heads = 4 scale(2.500000e-01)
func.func @layer_bias(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %bq: tensor<64xf32>, %bk: tensor<32xf32>, %bv: tensor<32xf32>, %bo: tensor<32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo bias(%bq, %bk, %bv, %bo : tensor<64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) heads = 4 scale(0.25) : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}

// -----

// A sliding window and packed documents, as on ring.attention.
// CHECK-LABEL: func.func @layer_window_docs
// CHECK: ring.attention_layer {{.*}} heads = 4 mask<causal> window<left = 16, right = -1> max_docs(8) output<reduce_scatter> :
func.func @layer_window_docs(%x: tensor<1x64x32xbf16>, %wq: tensor<32x64xbf16>, %wk: tensor<32x32xbf16>, %wv: tensor<32x32xbf16>, %wo: tensor<64x32xbf16>) -> (tensor<1x64x32xbf16>, tensor<1x4x64xf32>) {
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 mask<causal> window<left = 16, right = -1> max_docs(8) output<reduce_scatter> : tensor<1x64x32xbf16>, tensor<32x64xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<64x32xbf16> -> tensor<1x64x32xbf16>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xbf16>, tensor<1x4x64xf32>
}

// -----

// The per-rank ops.
// CHECK-LABEL: func.func @per_rank
// CHECK: ring.project ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<1x16x32xbf16>, memref<32x64xbf16>, memref<64xbf16>) outs(%{{.*}} : memref<1x4x16x16xbf16>)
// CHECK: ring.project ins(%{{.*}}, %{{.*}} : memref<1x16x32xbf16>, memref<32x64xbf16>) outs(%{{.*}} : memref<1x4x16x16xbf16>)
// CHECK: ring.out_project ins(%{{.*}}, %{{.*}} : memref<1x4x16x16xbf16>, memref<64x32xbf16>) outs(%{{.*}} : memref<1x16x32xf32>)
// CHECK: ring.output_all_reduce ins(%{{.*}}, %{{.*}} : memref<1x16x32xf32>, memref<32xbf16>) outs(%{{.*}} : memref<1x16x32xbf16>)
// CHECK: ring.output_all_reduce ins(%{{.*}} : memref<1x16x32xf32>) outs(%{{.*}} : memref<1x16x32xbf16>)
func.func @per_rank(%x: memref<1x16x32xbf16>, %w: memref<32x64xbf16>, %b: memref<64xbf16>, %q: memref<1x4x16x16xbf16>, %wo: memref<64x32xbf16>, %yp: memref<1x16x32xf32>, %bo: memref<32xbf16>, %y: memref<1x16x32xbf16>) {
  ring.project ins(%x, %w, %b : memref<1x16x32xbf16>, memref<32x64xbf16>, memref<64xbf16>) outs(%q : memref<1x4x16x16xbf16>)
  ring.project ins(%x, %w : memref<1x16x32xbf16>, memref<32x64xbf16>) outs(%q : memref<1x4x16x16xbf16>)
  ring.out_project ins(%q, %wo : memref<1x4x16x16xbf16>, memref<64x32xbf16>) outs(%yp : memref<1x16x32xf32>)
  ring.output_all_reduce ins(%yp, %bo : memref<1x16x32xf32>, memref<32xbf16>) outs(%y : memref<1x16x32xbf16>)
  ring.output_all_reduce ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x16x32xbf16>)
  return
}

// -----

// A layer whose Y is reduce-scattered onto the sequence.
// CHECK-LABEL: func.func @layer_scatter
// CHECK: ring.attention_layer {{.*}} heads = 4 mask<causal> output<reduce_scatter> :
func.func @layer_scatter(%x: tensor<1x64x32xbf16>, %wq: tensor<32x64xbf16>, %wk: tensor<32x32xbf16>, %wv: tensor<32x32xbf16>, %wo: tensor<64x32xbf16>) -> (tensor<1x64x32xbf16>, tensor<1x4x64xf32>) {
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 mask<causal> output<reduce_scatter> : tensor<1x64x32xbf16>, tensor<32x64xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<64x32xbf16> -> tensor<1x64x32xbf16>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xbf16>, tensor<1x4x64xf32>
}

// -----

// The per-rank reduce-scatter: 17 rows over 3 ranks (6, 6, 5), and a share
// of 0 rows when the ranks outnumber the rows.
// CHECK-LABEL: func.func @per_rank_scatter
// CHECK: ring.output_reduce_scatter ins(%{{.*}}, %{{.*}} : memref<2x17x32xf32>, memref<32xbf16>) outs(%{{.*}} : memref<2x6x32xbf16>) shares = [6, 6, 5]
// CHECK: ring.output_reduce_scatter ins(%{{.*}} : memref<1x2x8xf32>) outs(%{{.*}} : memref<1x1x8xf32>) shares = [1, 1, 0, 0]
func.func @per_rank_scatter(%yp: memref<2x17x32xf32>, %bo: memref<32xbf16>, %y: memref<2x6x32xbf16>, %yp2: memref<1x2x8xf32>, %y2: memref<1x1x8xf32>) {
  ring.output_reduce_scatter ins(%yp, %bo : memref<2x17x32xf32>, memref<32xbf16>) outs(%y : memref<2x6x32xbf16>) shares = [6, 6, 5]
  ring.output_reduce_scatter ins(%yp2 : memref<1x2x8xf32>) outs(%y2 : memref<1x1x8xf32>) shares = [1, 1, 0, 0]
  return
}
