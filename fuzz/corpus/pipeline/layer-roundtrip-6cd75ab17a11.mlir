

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
