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

