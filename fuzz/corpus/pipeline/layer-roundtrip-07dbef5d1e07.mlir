

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

