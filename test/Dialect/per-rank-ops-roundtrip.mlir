// RUN: ring-opt %s | ring-opt | FileCheck %s

// The per-rank ops of the partitioned, scheduled and overlapped phases
// round-trip.

shard.grid @cluster(shape = 2x1x2)

// CHECK-LABEL: func.func @per_rank
func.func @per_rank(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                    %o: memref<1x4x64x32xbf16>, %lse: memref<1x4x64xf32>) {
  %c:3 = shard.process_multi_index on @cluster : index, index, index
  // CHECK: ring.local_attention ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>) outs(%{{.+}}, %{{.+}} : memref<1x4x64x32xbf16>, memref<1x4x64xf32>) coords(%{{.+}}#0, %{{.+}}#1, %{{.+}}#2) plan(<grid = @cluster, grid_shape = [2, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 2, seq = 128, head_dim = 64, element_type = bf16, mask = causal, balance = zigzag, scale = 1.250000e-01 : f64>)
  ring.local_attention ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      outs(%o, %lse : memref<1x4x64x32xbf16>, memref<1x4x64xf32>) coords(%c#0, %c#1, %c#2)
      plan(#ring.plan<grid = @cluster, grid_shape = [2, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2,
                      batch = 1, heads = 4, kv_heads = 2, seq = 128, head_dim = 64, element_type = bf16,
                      mask = causal, balance = zigzag, scale = 0.125 : f64>)

  %acc_o = memref.alloc() : memref<1x4x64x32xf32>
  %acc_l = memref.alloc() : memref<1x4x64xf32>
  %po = memref.alloc() : memref<1x4x64x32xf32>
  %pl = memref.alloc() : memref<1x4x64xf32>
  %s = memref.alloc() : memref<1x4x64x64xf32>
  %kb = memref.alloc() : memref<1x2x64x32xbf16>
  %cu = memref.alloc() : memref<5xi32>
  // CHECK: ring.fill_partial
  ring.fill_partial %acc_o, %acc_l : memref<1x4x64x32xf32>, memref<1x4x64xf32>
  // CHECK: ring.stage 0 {
  ring.stage 0 {
    // CHECK: %[[T:.+]] = ring.shift_start %{{.+}}, %{{.+}} stage 0 : memref<1x2x64x32xbf16>
    %t = ring.shift_start %k, %kb stage 0 : memref<1x2x64x32xbf16>
    // CHECK: ring.block_attention ins({{.*}}) outs({{.*}}) q_owner(%{{.+}}) kv_owner(%{{.+}}) q_rows = [0, 64] kv_rows = [0, 32] mask<causal> layout<zigzag> ring_size = 2 scale = 1.250000e-01
    ring.block_attention ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
        outs(%po, %pl : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
        q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 64] kv_rows = [0, 32] mask<causal> layout<zigzag> ring_size = 2 scale = 0.125
    // A layout with padded parts: 127 tokens in 2·2 chunks of 32 rows.
    // CHECK: ring.block_attention ins({{.*}}) outs({{.*}}) q_owner(%{{.+}}) kv_owner(%{{.+}}) q_rows = [0, 64] kv_rows = [0, 32] mask<causal> layout<zigzag> ring_size = 2 scale = 1.250000e-01 seq_len = 127
    ring.block_attention ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
        outs(%po, %pl : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
        q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 64] kv_rows = [0, 32] mask<causal> layout<zigzag> ring_size = 2 scale = 0.125 seq_len = 127
    // CHECK: ring.block_scores
    ring.block_scores ins(%q, %k : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>) outs(%s : memref<1x4x64x64xf32>) q_rows = [0, 64] kv_rows = [0, 64]
    // CHECK: ring.all_reduce %{{.+}} stage 0 : memref<1x4x64x64xf32>
    ring.all_reduce %s stage 0 : memref<1x4x64x64xf32>
    // CHECK: ring.block_softmax_v
    ring.block_softmax_v ins(%s, %v : memref<1x4x64x64xf32>, memref<1x2x64x32xbf16>)
        outs(%po, %pl : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
        q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 64] kv_rows = [0, 64] mask<none> layout<none> ring_size = 2 scale = 0.125
    // Packed documents: the softmax takes cu_seqlens.
    // CHECK: ring.block_softmax_v ins({{.*}}) outs({{.*}}) q_owner(%{{.+}}) kv_owner(%{{.+}}) docs(%{{.+}} : memref<5xi32>) q_rows = [0, 64] kv_rows = [0, 64] mask<causal>
    ring.block_softmax_v ins(%s, %v : memref<1x4x64x64xf32>, memref<1x2x64x32xbf16>)
        outs(%po, %pl : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
        q_owner(%c#0) kv_owner(%c#0) docs(%cu : memref<5xi32>) q_rows = [0, 64] kv_rows = [0, 64] mask<causal> layout<zigzag> ring_size = 2 scale = 0.125
    // CHECK: ring.merge ins({{.*}}) outs({{.*}}) rows = [0, 64]
    ring.merge ins(%po, %pl : memref<1x4x64x32xf32>, memref<1x4x64xf32>) outs(%acc_o, %acc_l : memref<1x4x64x32xf32>, memref<1x4x64xf32>) rows = [0, 64]
    // CHECK: ring.shift_wait %[[T]]
    ring.shift_wait %t
  }
  ring.stage 1 {
    // CHECK: ring.shift %{{.+}}, %{{.+}} stage 1 : memref<1x2x64x32xbf16>
    ring.shift %kb, %k stage 1 : memref<1x2x64x32xbf16>
  }
  // CHECK: ring.finalize
  ring.finalize ins(%acc_o, %acc_l : memref<1x4x64x32xf32>, memref<1x4x64xf32>) outs(%o, %lse : memref<1x4x64x32xbf16>, memref<1x4x64xf32>)
  return
}

// CHECK-LABEL: func.func @sum_replicas
func.func @sum_replicas(%rep: memref<1x4x16x64xbf16>, %dk: memref<1x2x16x64xbf16>) {
  // CHECK: ring.sum_replicas ins(%{{.+}} : memref<1x4x16x64xbf16>) outs(%{{.+}} : memref<1x2x16x64xbf16>)
  ring.sum_replicas ins(%rep : memref<1x4x16x64xbf16>) outs(%dk : memref<1x2x16x64xbf16>)
  // The a2a share's rows only (a2a padding).
  // CHECK: ring.sum_replicas ins(%{{.+}} : memref<1x4x16x64xbf16>) outs(%{{.+}} : memref<1x2x16x64xbf16>) rows %{{.+}}
  %share = arith.constant 9 : index
  ring.sum_replicas ins(%rep : memref<1x4x16x64xbf16>) outs(%dk : memref<1x2x16x64xbf16>) rows %share
  return
}
