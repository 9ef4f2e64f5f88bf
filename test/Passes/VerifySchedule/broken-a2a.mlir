// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// ring-verify-schedule proves the all-to-all (Ulysses) plans: the
// all-to-alls of an a2a group match, and executed on (head, token unit)
// cells they give the attention exactly its plan's heads and tokens and
// give every output cell back exactly once. Each case below breaks one of
// these on the a2a = 2 schedule.
// The schedule ringc builds for heads=2,seq=8,head_dim=16,a2a=2: valid.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %ao = memref.alloc() : memref<1x1x8x16xf32>
  %al = memref.alloc() : memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %arg0, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %kh id 1 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %vh id 2 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_accumulate ins(%qh, %kh, %vh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) acc(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) outs(%oh, %lh : memref<1x1x8x16xf32>, memref<1x1x8xf32>)
  ring.all_to_all <heads_to_seq> %oh, %arg3 id 3 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %lh, %arg4 id 4 : memref<1x1x8xf32>, memref<1x2x4xf32>
  return
}

// -----

// K and V swapped on their way to the attention.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %ao = memref.alloc() : memref<1x1x8x16xf32>
  %al = memref.alloc() : memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %arg0, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %vh id 1 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %kh id 2 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.stage 0 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) reads as its keys cell 0 v head 0 rows [0, +4) of ring rank 0 (batch 0), but the plan needs k head 0 rows [0, +4) of ring rank 0 (batch 0)}}
    ring.block_attention_accumulate ins(%qh, %kh, %vh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) acc(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) outs(%oh, %lh : memref<1x1x8x16xf32>, memref<1x1x8xf32>)
  ring.all_to_all <heads_to_seq> %oh, %arg3 id 3 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %lh, %arg4 id 4 : memref<1x1x8xf32>, memref<1x2x4xf32>
  return
}

// -----

// The queries arrive after the attention ran.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %ao = memref.alloc() : memref<1x1x8x16xf32>
  %al = memref.alloc() : memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %arg1, %kh id 1 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %vh id 2 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.stage 0 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) at stage 0 runs before the queries arrive by all-to-all}}
    ring.block_attention_accumulate ins(%qh, %kh, %vh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) acc(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.all_to_all <seq_to_heads> %arg0, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.finalize ins(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) outs(%oh, %lh : memref<1x1x8x16xf32>, memref<1x1x8xf32>)
  ring.all_to_all <heads_to_seq> %oh, %arg3 id 3 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %lh, %arg4 id 4 : memref<1x1x8xf32>, memref<1x2x4xf32>
  return
}

// -----

// O goes back before the result is finalized.
// expected-error @+2 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) the o argument's cell 0 receives nothing but must hold the rank's own q head 0 rows [0, +4) of ring rank 0 (batch 0) (the finalized result, returned by all-to-all)}}
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %ao = memref.alloc() : memref<1x1x8x16xf32>
  %al = memref.alloc() : memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %arg0, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %kh id 1 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %vh id 2 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_accumulate ins(%qh, %kh, %vh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) acc(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.all_to_all <heads_to_seq> %oh, %arg3 id 3 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.finalize ins(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) outs(%oh, %lh : memref<1x1x8x16xf32>, memref<1x1x8xf32>)
  ring.all_to_all <heads_to_seq> %lh, %arg4 id 4 : memref<1x1x8xf32>, memref<1x2x4xf32>
  return
}

// -----

// LSE never goes back.
// expected-error @+2 {{with a2a = 2 the lse argument must be received by exactly one heads_to_seq ring.all_to_all, not 0}}
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %ao = memref.alloc() : memref<1x1x8x16xf32>
  %al = memref.alloc() : memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %arg0, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %kh id 1 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %vh id 2 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_accumulate ins(%qh, %kh, %vh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) acc(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) outs(%oh, %lh : memref<1x1x8x16xf32>, memref<1x1x8xf32>)
  ring.all_to_all <heads_to_seq> %oh, %arg3 id 3 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  return
}

// -----

// Only a2a rank 0 exchanges V: the others would never match it.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %ao = memref.alloc() : memref<1x1x8x16xf32>
  %al = memref.alloc() : memref<1x1x8xf32>
  %c0 = arith.constant 0 : index
  %is0 = arith.cmpi eq, %c#3, %c0 : index
  ring.all_to_all <seq_to_heads> %arg0, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %kh id 1 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  scf.if %is0 {
  ring.all_to_all <seq_to_heads> %arg2, %vh id 2 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  }
  ring.stage 0 {
    ring.block_attention_accumulate ins(%qh, %kh, %vh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) acc(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%ao, %al : memref<1x1x8x16xf32>, memref<1x1x8xf32>) outs(%oh, %lh : memref<1x1x8x16xf32>, memref<1x1x8xf32>)
  ring.all_to_all <heads_to_seq> %oh, %arg3 id 3 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  // (reported at the first all-to-all the other rank lacks a partner for)
  // expected-error @+1 {{rank (ring 0, head group 0, dim slice 0, a2a 1) issues 4 all-to-alls but rank (ring 0, head group 0, dim slice 0, a2a 0) issues 5; the unmatched one would never complete}}
  ring.all_to_all <heads_to_seq> %lh, %arg4 id 4 : memref<1x1x8xf32>, memref<1x2x4xf32>
  return
}

// -----

// Uneven shares (issue 11): the local block of 7 rows over a2a = 2 splits
// into shares of 4 and 3 rows in buffers of 4; `degree` names U, which the
// shapes no longer imply. The schedule ringc builds for
// heads=2,seq=7,head_dim=16,a2a=2: valid (a2a rank 1's last row is a2a
// padding, never sent and never written).
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 7, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:4 = shard.process_multi_index on @cluster : index, index, index, index
  %alloc = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_0 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_1 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_2 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_3 = memref.alloc() : memref<1x1x7xf32>
  ring.all_to_all <seq_to_heads> %arg0, %alloc id 0 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %alloc_0 id 1 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %alloc_1 id 2 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  %alloc_4 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_5 = memref.alloc() : memref<1x1x7xf32>
  ring.stage 0 {
    ring.block_attention_accumulate ins(%alloc, %alloc_0, %alloc_1 : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) acc(%alloc_4, %alloc_5 : memref<1x1x7x16xf32>, memref<1x1x7xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 7] kv_rows = [0, 7] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%alloc_4, %alloc_5 : memref<1x1x7x16xf32>, memref<1x1x7xf32>) outs(%alloc_2, %alloc_3 : memref<1x1x7x16xf32>, memref<1x1x7xf32>)
  memref.dealloc %alloc_4 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_5 : memref<1x1x7xf32>
  ring.all_to_all <heads_to_seq> %alloc_2, %arg3 id 3 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %alloc_3, %arg4 id 4 degree 2 : memref<1x1x7xf32>, memref<1x2x4xf32>
  memref.dealloc %alloc : memref<1x1x7x16xf32>
  memref.dealloc %alloc_0 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_1 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_2 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_3 : memref<1x1x7xf32>
  return
}

// -----

// The same schedule with the LSE's all-to-all missing its degree: 7 rows
// and 4 do not make an all-to-all of the degree the shapes imply.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 7, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:4 = shard.process_multi_index on @cluster : index, index, index, index
  %alloc = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_0 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_1 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_2 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_3 = memref.alloc() : memref<1x1x7xf32>
  ring.all_to_all <seq_to_heads> %arg0, %alloc id 0 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %alloc_0 id 1 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %alloc_1 id 2 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  %alloc_4 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_5 = memref.alloc() : memref<1x1x7xf32>
  ring.stage 0 {
    ring.block_attention_accumulate ins(%alloc, %alloc_0, %alloc_1 : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) acc(%alloc_4, %alloc_5 : memref<1x1x7x16xf32>, memref<1x1x7xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 7] kv_rows = [0, 7] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%alloc_4, %alloc_5 : memref<1x1x7x16xf32>, memref<1x1x7xf32>) outs(%alloc_2, %alloc_3 : memref<1x1x7x16xf32>, memref<1x1x7xf32>)
  memref.dealloc %alloc_4 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_5 : memref<1x1x7xf32>
  ring.all_to_all <heads_to_seq> %alloc_2, %arg3 id 3 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  // expected-error @+1 {{'ring.all_to_all' op buffers 'memref<1x1x7xf32>' and 'memref<1x2x4xf32>' do not imply the a2a degree (7 tokens are no multiple of 4); give it with `degree U` (uneven shares)}}
  ring.all_to_all <heads_to_seq> %alloc_3, %arg4 id 4 : memref<1x1x7xf32>, memref<1x2x4xf32>
  memref.dealloc %alloc : memref<1x1x7x16xf32>
  memref.dealloc %alloc_0 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_1 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_2 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_3 : memref<1x1x7xf32>
  return
}
