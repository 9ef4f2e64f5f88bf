// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// The backward halo of a sliding window (ring of 4, 4 tokens per rank, not
// causal, window left 2 / right 1; ring-schedule-backward truncates the
// ring to stage 0, one forward and one backward stage): each rank keeps its
// partial dK/dV for the predecessor's block (distance 1) and for the
// successor's (distance −1), and sends them home by one hop each: to p − 1
// in backward stage 2 (under the compute) and to p + 1 in the round after
// the last stage (stage 3). ring-verify-schedule proves that every visible
// pair's dK/dV reaches the key's owner exactly once. The first function is
// what ringc builds for heads=1,seq=16,head_dim=8,ring=4,window_left=2,
// window_right=1,balance=none,dtype=f32,grad=1: valid. Each case after it
// breaks the return of the partials.

shard.grid @cluster(shape = 4x1x1)
func.func @halo_backward(%arg0: memref<1x1x4x8xf32> {ring.name = "q"}, %arg1: memref<1x1x4x8xf32> {ring.name = "k"}, %arg2: memref<1x1x4x8xf32> {ring.name = "v"}, %arg3: memref<1x1x4x8xf32> {ring.name = "o"}, %arg4: memref<1x1x4xf32> {ring.name = "lse"}, %arg5: memref<1x1x4x8xf32> {ring.name = "do"}, %arg6: memref<1x1x4x8xf32> {ring.name = "dq"}, %arg7: memref<1x1x4x8xf32> {ring.name = "dk"}, %arg8: memref<1x1x4x8xf32> {ring.name = "dv"}) attributes {ring.backward = "halo_backward", ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 2, right = 1>>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x1x4xf32>
  ring.grad_delta ins(%arg3, %arg5 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%alloc : memref<1x1x4xf32>)
  %alloc_0 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_0 : memref<1x1x4x8xf32>
  %alloc_1 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_2 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_1 : memref<1x1x4x8xf32>
  ring.zero %alloc_2 : memref<1x1x4x8xf32>
  %alloc_3 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_4 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_5 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_6 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_7 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_8 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_7 : memref<1x1x4x8xf32>
  ring.zero %alloc_8 : memref<1x1x4x8xf32>
  %alloc_9 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_10 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_11 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_12 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_11 : memref<1x1x4x8xf32>
  ring.zero %alloc_12 : memref<1x1x4x8xf32>
  %alloc_13 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_14 = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%arg0, %arg1, %arg2, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x1x4x8xf32>
  }
  ring.stage 1 {
    %c3 = arith.constant 3 : index
    %0 = arith.addi %proc_linear_idx#0, %c3 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c1 = arith.constant 1 : index
    %2 = arith.cmpi uge, %proc_linear_idx#0, %c1 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_3, %alloc_4, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_7, %alloc_8 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %arg1, %alloc_5 stage 1 backward : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_6 stage 1 backward : memref<1x1x4x8xf32>
  }
  ring.stage 2 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c2 = arith.constant 2 : index
    %2 = arith.cmpi ule, %proc_linear_idx#0, %c2 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_5, %alloc_6, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_11, %alloc_12 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %alloc_7, %alloc_9 stage 2 backward : memref<1x1x4x8xf32>
    ring.shift %alloc_8, %alloc_10 stage 2 backward : memref<1x1x4x8xf32>
    ring.accumulate ins(%alloc_9 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_10 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.stage 3 {
    ring.shift %alloc_11, %alloc_13 stage 3 : memref<1x1x4x8xf32>
    ring.shift %alloc_12, %alloc_14 stage 3 : memref<1x1x4x8xf32>
    ring.accumulate ins(%alloc_13 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_14 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.convert ins(%alloc_0 : memref<1x1x4x8xf32>) outs(%arg6 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_1 : memref<1x1x4x8xf32>) outs(%arg7 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_2 : memref<1x1x4x8xf32>) outs(%arg8 : memref<1x1x4x8xf32>)
  return
}

// -----

// The return hop of the successors' blocks (stage 3, to p + 1) is
// missing: rank 1 never gets the dK/dV that rank 0 computed for its block.
shard.grid @cluster(shape = 4x1x1)
// expected-error @+1 {{on rank (ring 1, head group 0, dim slice 0) dk misses the pair of query rows [0, 4) of ring rank 0 and key rows [0, 4) of ring rank 1, which the mask leaves visible}}
func.func @missing_return_hop(%arg0: memref<1x1x4x8xf32> {ring.name = "q"}, %arg1: memref<1x1x4x8xf32> {ring.name = "k"}, %arg2: memref<1x1x4x8xf32> {ring.name = "v"}, %arg3: memref<1x1x4x8xf32> {ring.name = "o"}, %arg4: memref<1x1x4xf32> {ring.name = "lse"}, %arg5: memref<1x1x4x8xf32> {ring.name = "do"}, %arg6: memref<1x1x4x8xf32> {ring.name = "dq"}, %arg7: memref<1x1x4x8xf32> {ring.name = "dk"}, %arg8: memref<1x1x4x8xf32> {ring.name = "dv"}) attributes {ring.backward = "missing_return_hop", ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 2, right = 1>>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x1x4xf32>
  ring.grad_delta ins(%arg3, %arg5 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%alloc : memref<1x1x4xf32>)
  %alloc_0 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_0 : memref<1x1x4x8xf32>
  %alloc_1 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_2 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_1 : memref<1x1x4x8xf32>
  ring.zero %alloc_2 : memref<1x1x4x8xf32>
  %alloc_3 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_4 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_5 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_6 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_7 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_8 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_7 : memref<1x1x4x8xf32>
  ring.zero %alloc_8 : memref<1x1x4x8xf32>
  %alloc_9 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_10 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_11 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_12 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_11 : memref<1x1x4x8xf32>
  ring.zero %alloc_12 : memref<1x1x4x8xf32>
  %alloc_13 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_14 = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%arg0, %arg1, %arg2, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x1x4x8xf32>
  }
  ring.stage 1 {
    %c3 = arith.constant 3 : index
    %0 = arith.addi %proc_linear_idx#0, %c3 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c1 = arith.constant 1 : index
    %2 = arith.cmpi uge, %proc_linear_idx#0, %c1 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_3, %alloc_4, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_7, %alloc_8 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %arg1, %alloc_5 stage 1 backward : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_6 stage 1 backward : memref<1x1x4x8xf32>
  }
  ring.stage 2 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c2 = arith.constant 2 : index
    %2 = arith.cmpi ule, %proc_linear_idx#0, %c2 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_5, %alloc_6, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_11, %alloc_12 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %alloc_7, %alloc_9 stage 2 backward : memref<1x1x4x8xf32>
    ring.shift %alloc_8, %alloc_10 stage 2 backward : memref<1x1x4x8xf32>
    ring.accumulate ins(%alloc_9 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_10 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.stage 3 {
    // The successors' blocks never come home: no hop to p+1.
  }
  ring.convert ins(%alloc_0 : memref<1x1x4x8xf32>) outs(%arg6 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_1 : memref<1x1x4x8xf32>) outs(%arg7 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_2 : memref<1x1x4x8xf32>) outs(%arg8 : memref<1x1x4x8xf32>)
  return
}

// -----

// The partial of the predecessor's block that arrives from p + 1 is added
// into the home dK twice.
shard.grid @cluster(shape = 4x1x1)
// expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) dk adds the pair of query rows [0, 4) of ring rank 1 and key rows [0, 4) of ring rank 0 2 times}}
func.func @double_add(%arg0: memref<1x1x4x8xf32> {ring.name = "q"}, %arg1: memref<1x1x4x8xf32> {ring.name = "k"}, %arg2: memref<1x1x4x8xf32> {ring.name = "v"}, %arg3: memref<1x1x4x8xf32> {ring.name = "o"}, %arg4: memref<1x1x4xf32> {ring.name = "lse"}, %arg5: memref<1x1x4x8xf32> {ring.name = "do"}, %arg6: memref<1x1x4x8xf32> {ring.name = "dq"}, %arg7: memref<1x1x4x8xf32> {ring.name = "dk"}, %arg8: memref<1x1x4x8xf32> {ring.name = "dv"}) attributes {ring.backward = "double_add", ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 2, right = 1>>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x1x4xf32>
  ring.grad_delta ins(%arg3, %arg5 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%alloc : memref<1x1x4xf32>)
  %alloc_0 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_0 : memref<1x1x4x8xf32>
  %alloc_1 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_2 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_1 : memref<1x1x4x8xf32>
  ring.zero %alloc_2 : memref<1x1x4x8xf32>
  %alloc_3 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_4 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_5 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_6 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_7 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_8 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_7 : memref<1x1x4x8xf32>
  ring.zero %alloc_8 : memref<1x1x4x8xf32>
  %alloc_9 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_10 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_11 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_12 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_11 : memref<1x1x4x8xf32>
  ring.zero %alloc_12 : memref<1x1x4x8xf32>
  %alloc_13 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_14 = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%arg0, %arg1, %arg2, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x1x4x8xf32>
  }
  ring.stage 1 {
    %c3 = arith.constant 3 : index
    %0 = arith.addi %proc_linear_idx#0, %c3 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c1 = arith.constant 1 : index
    %2 = arith.cmpi uge, %proc_linear_idx#0, %c1 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_3, %alloc_4, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_7, %alloc_8 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %arg1, %alloc_5 stage 1 backward : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_6 stage 1 backward : memref<1x1x4x8xf32>
  }
  ring.stage 2 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c2 = arith.constant 2 : index
    %2 = arith.cmpi ule, %proc_linear_idx#0, %c2 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_5, %alloc_6, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_11, %alloc_12 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %alloc_7, %alloc_9 stage 2 backward : memref<1x1x4x8xf32>
    ring.shift %alloc_8, %alloc_10 stage 2 backward : memref<1x1x4x8xf32>
    ring.accumulate ins(%alloc_9 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_9 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_10 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.stage 3 {
    ring.shift %alloc_11, %alloc_13 stage 3 : memref<1x1x4x8xf32>
    ring.shift %alloc_12, %alloc_14 stage 3 : memref<1x1x4x8xf32>
    ring.accumulate ins(%alloc_13 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_14 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.convert ins(%alloc_0 : memref<1x1x4x8xf32>) outs(%arg6 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_1 : memref<1x1x4x8xf32>) outs(%arg7 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_2 : memref<1x1x4x8xf32>) outs(%arg8 : memref<1x1x4x8xf32>)
  return
}

// -----

// The hop of the predecessors' blocks goes the wrong way (to p + 1):
// rank 0 receives rank 3's partial, which is of rank 2's block.
shard.grid @cluster(shape = 4x1x1)
func.func @hop_wrong_way(%arg0: memref<1x1x4x8xf32> {ring.name = "q"}, %arg1: memref<1x1x4x8xf32> {ring.name = "k"}, %arg2: memref<1x1x4x8xf32> {ring.name = "v"}, %arg3: memref<1x1x4x8xf32> {ring.name = "o"}, %arg4: memref<1x1x4xf32> {ring.name = "lse"}, %arg5: memref<1x1x4x8xf32> {ring.name = "do"}, %arg6: memref<1x1x4x8xf32> {ring.name = "dq"}, %arg7: memref<1x1x4x8xf32> {ring.name = "dk"}, %arg8: memref<1x1x4x8xf32> {ring.name = "dv"}) attributes {ring.backward = "hop_wrong_way", ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 2, right = 1>>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x1x4xf32>
  ring.grad_delta ins(%arg3, %arg5 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%alloc : memref<1x1x4xf32>)
  %alloc_0 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_0 : memref<1x1x4x8xf32>
  %alloc_1 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_2 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_1 : memref<1x1x4x8xf32>
  ring.zero %alloc_2 : memref<1x1x4x8xf32>
  %alloc_3 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_4 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_5 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_6 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_7 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_8 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_7 : memref<1x1x4x8xf32>
  ring.zero %alloc_8 : memref<1x1x4x8xf32>
  %alloc_9 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_10 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_11 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_12 = memref.alloc() : memref<1x1x4x8xf32>
  ring.zero %alloc_11 : memref<1x1x4x8xf32>
  ring.zero %alloc_12 : memref<1x1x4x8xf32>
  %alloc_13 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_14 = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%arg0, %arg1, %arg2, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x1x4x8xf32>
  }
  ring.stage 1 {
    %c3 = arith.constant 3 : index
    %0 = arith.addi %proc_linear_idx#0, %c3 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c1 = arith.constant 1 : index
    %2 = arith.cmpi uge, %proc_linear_idx#0, %c1 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_3, %alloc_4, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_7, %alloc_8 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %arg1, %alloc_5 stage 1 backward : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_6 stage 1 backward : memref<1x1x4x8xf32>
  }
  ring.stage 2 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c2 = arith.constant 2 : index
    %2 = arith.cmpi ule, %proc_linear_idx#0, %c2 : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_5, %alloc_6, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_11, %alloc_12 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    }
    ring.shift %alloc_7, %alloc_9 stage 2 : memref<1x1x4x8xf32>
    ring.shift %alloc_8, %alloc_10 stage 2 : memref<1x1x4x8xf32>
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 2 adds the dK/dV accumulator of ring rank 2's block into that of ring rank 0's block}}
    ring.accumulate ins(%alloc_9 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_10 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.stage 3 {
    ring.shift %alloc_11, %alloc_13 stage 3 : memref<1x1x4x8xf32>
    ring.shift %alloc_12, %alloc_14 stage 3 : memref<1x1x4x8xf32>
    ring.accumulate ins(%alloc_13 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
    ring.accumulate ins(%alloc_14 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  }
  ring.convert ins(%alloc_0 : memref<1x1x4x8xf32>) outs(%arg6 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_1 : memref<1x1x4x8xf32>) outs(%arg7 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_2 : memref<1x1x4x8xf32>) outs(%arg8 : memref<1x1x4x8xf32>)
  return
}
