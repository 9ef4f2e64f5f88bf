// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// ring-verify-schedule proves the backward of the all-to-all plans: O, dO
// and LSE (with Q, K, V) reach the ring backward as the plan's heads and
// tokens, and dQ, dK, dV come back to every rank's sequence shard exactly
// once; replicated key/value heads' dK/dV are summed over the replicas of
// every query head of the group, each once (ring.sum_replicas; with a2a
// padding over the rank's share only, never its padding rows). Each case
// below breaks one of these on an a2a = 2 MQA schedule.
// The backward schedule ringc builds for heads=2,kv_heads=1,seq=8,head_dim=16,
// a2a=2,grad=1 (MQA: the key/value head is replicated on both a2a ranks): valid.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// O and dO swapped on their way to the ring backward.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %doh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %oh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) reads as its o cell 0 do head 0 rows [0, +4) of ring rank 0 (batch 0), but the plan needs o head 0 rows [0, +4) of ring rank 0 (batch 0)}}
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// The block reads V as its keys and K as its values.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) reads as its keys cell 0 v head 0 rows [0, +4) of ring rank 0 (batch 0), but the plan needs k head 0 rows [0, +4) of ring rank 0 (batch 0)}}
    ring.block_attention_backward ins(%qh, %vh, %kh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// dQ goes back by all-to-all before the ring backward converted it.
shard.grid @cluster(shape = 1x1x1x2)
// expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) the dq argument's cell 0 receives nothing but must hold the rank's own dq head 0 rows [0, +4) of ring rank 0 (batch 0) (the gradient of the ring backward, returned by all-to-all)}}
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// The replicas of dK are never summed into the dk argument.
shard.grid @cluster(shape = 1x1x1x2)
// expected-error @+1 {{with a2a = 2 the key/value heads are replicated, so the dk argument must be written by exactly one ring.sum_replicas (the sum of the replicas' gradients), not 0}}
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// dK's sum reads the dV replicas before they arrive (dK and dV swapped
// where the replicas are summed).
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) sums replicas that no all-to-all delivered}}
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// dK goes back twice (as itself and in place of dV).
shard.grid @cluster(shape = 1x1x1x2)
// expected-error @+1 {{with a2a = 2 the dv and dk arguments go through the same head-sharded buffer; each needs its own}}
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dkh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

// -----

// A local block of 7 rows over a2a = 2 (heads=2,kv_heads=1,seq=7,a2a=2,
// grad=1): shares of 4 and 3 rows in buffers of 4, so the all-to-all
// leaves row 3 of a2a rank 1's buffers unwritten (a2a padding), and
// ring.sum_replicas sums only the rank's share (rows %share): valid.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 7, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %u = shard.process_multi_index on @cluster axes = [3] : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %first = arith.cmpi ult, %u, %c1 : index
  %share = arith.select %first, %c4, %c3 : index
  %qh = memref.alloc() : memref<1x1x7x16xf32>
  %kh = memref.alloc() : memref<1x1x7x16xf32>
  %vh = memref.alloc() : memref<1x1x7x16xf32>
  %oh = memref.alloc() : memref<1x1x7x16xf32>
  %doh = memref.alloc() : memref<1x1x7x16xf32>
  %dqh = memref.alloc() : memref<1x1x7x16xf32>
  %dkh = memref.alloc() : memref<1x1x7x16xf32>
  %dvh = memref.alloc() : memref<1x1x7x16xf32>
  %dqa = memref.alloc() : memref<1x1x7x16xf32>
  %dka = memref.alloc() : memref<1x1x7x16xf32>
  %dva = memref.alloc() : memref<1x1x7x16xf32>
  %lh = memref.alloc() : memref<1x1x7xf32>
  %delta = memref.alloc() : memref<1x1x7xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 degree 2 : memref<1x1x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 degree 2 : memref<1x1x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 degree 2 : memref<1x2x4xf32>, memref<1x1x7xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) outs(%delta : memref<1x1x7xf32>)
  ring.zero %dqa : memref<1x1x7x16xf32>
  ring.zero %dka : memref<1x1x7x16xf32>
  ring.zero %dva : memref<1x1x7x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7xf32>, memref<1x1x7xf32>) outs(%dqa, %dka, %dva : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 7] kv_rows = [0, 7] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x7x16xf32>) outs(%dqh : memref<1x1x7x16xf32>)
  ring.convert ins(%dka : memref<1x1x7x16xf32>) outs(%dkh : memref<1x1x7x16xf32>)
  ring.convert ins(%dva : memref<1x1x7x16xf32>) outs(%dvh : memref<1x1x7x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>) rows %share
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>) rows %share
  return
}

// -----

// The same without `rows` on dK: ring.sum_replicas would sum (and write)
// a2a rank 1's padding row.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 7, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %u = shard.process_multi_index on @cluster axes = [3] : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %first = arith.cmpi ult, %u, %c1 : index
  %share = arith.select %first, %c4, %c3 : index
  %qh = memref.alloc() : memref<1x1x7x16xf32>
  %kh = memref.alloc() : memref<1x1x7x16xf32>
  %vh = memref.alloc() : memref<1x1x7x16xf32>
  %oh = memref.alloc() : memref<1x1x7x16xf32>
  %doh = memref.alloc() : memref<1x1x7x16xf32>
  %dqh = memref.alloc() : memref<1x1x7x16xf32>
  %dkh = memref.alloc() : memref<1x1x7x16xf32>
  %dvh = memref.alloc() : memref<1x1x7x16xf32>
  %dqa = memref.alloc() : memref<1x1x7x16xf32>
  %dka = memref.alloc() : memref<1x1x7x16xf32>
  %dva = memref.alloc() : memref<1x1x7x16xf32>
  %lh = memref.alloc() : memref<1x1x7xf32>
  %delta = memref.alloc() : memref<1x1x7xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 degree 2 : memref<1x1x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 degree 2 : memref<1x1x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 degree 2 : memref<1x2x4xf32>, memref<1x1x7xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) outs(%delta : memref<1x1x7xf32>)
  ring.zero %dqa : memref<1x1x7x16xf32>
  ring.zero %dka : memref<1x1x7x16xf32>
  ring.zero %dva : memref<1x1x7x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7xf32>, memref<1x1x7xf32>) outs(%dqa, %dka, %dva : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 7] kv_rows = [0, 7] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x7x16xf32>) outs(%dqh : memref<1x1x7x16xf32>)
  ring.convert ins(%dka : memref<1x1x7x16xf32>) outs(%dkh : memref<1x1x7x16xf32>)
  ring.convert ins(%dva : memref<1x1x7x16xf32>) outs(%dvh : memref<1x1x7x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 1) sums row 3 of source head 0 (batch 0), which no all-to-all delivered (an a2a padding row), into the caller's buffer; valid: rows = the rank's share of 3 rows}}
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>) rows %share
  return
}

// -----

// `rows` of 3 on every rank for dV: a2a rank 0's fourth token row of dV is
// never written.
shard.grid @cluster(shape = 1x1x1x2)
// expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) the dv argument's cell 3 receives nothing but must hold the rank's own dv head 0 rows [3, +1) of ring rank 0 (batch 0) summed over query heads {0, 1} (the gradient of the ring backward, returned by all-to-all)}}
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 7, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %u = shard.process_multi_index on @cluster axes = [3] : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %first = arith.cmpi ult, %u, %c1 : index
  %share = arith.select %first, %c4, %c3 : index
  %qh = memref.alloc() : memref<1x1x7x16xf32>
  %kh = memref.alloc() : memref<1x1x7x16xf32>
  %vh = memref.alloc() : memref<1x1x7x16xf32>
  %oh = memref.alloc() : memref<1x1x7x16xf32>
  %doh = memref.alloc() : memref<1x1x7x16xf32>
  %dqh = memref.alloc() : memref<1x1x7x16xf32>
  %dkh = memref.alloc() : memref<1x1x7x16xf32>
  %dvh = memref.alloc() : memref<1x1x7x16xf32>
  %dqa = memref.alloc() : memref<1x1x7x16xf32>
  %dka = memref.alloc() : memref<1x1x7x16xf32>
  %dva = memref.alloc() : memref<1x1x7x16xf32>
  %lh = memref.alloc() : memref<1x1x7xf32>
  %delta = memref.alloc() : memref<1x1x7xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 degree 2 : memref<1x1x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 degree 2 : memref<1x1x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 degree 2 : memref<1x2x4xf32>, memref<1x1x7xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) outs(%delta : memref<1x1x7xf32>)
  ring.zero %dqa : memref<1x1x7x16xf32>
  ring.zero %dka : memref<1x1x7x16xf32>
  ring.zero %dva : memref<1x1x7x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7xf32>, memref<1x1x7xf32>) outs(%dqa, %dka, %dva : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 7] kv_rows = [0, 7] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x7x16xf32>) outs(%dqh : memref<1x1x7x16xf32>)
  ring.convert ins(%dka : memref<1x1x7x16xf32>) outs(%dkh : memref<1x1x7x16xf32>)
  ring.convert ins(%dva : memref<1x1x7x16xf32>) outs(%dvh : memref<1x1x7x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>) rows %share
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>) rows %c3
  return
}
