

// The diagonal block has no causal mask.
shard.grid @r2(shape = 2)
func.func @no_mask(%arg0: memref<1x1x4x8xf32> {ring.name = "q"}, %arg1: memref<1x1x4x8xf32> {ring.name = "k"}, %arg2: memref<1x1x4x8xf32> {ring.name = "v"}, %arg3: memref<1x1x4x8xf32> {ring.name = "o"}, %arg4: memref<1x1x4xf32> {ring.name = "lse"}, %arg5: memref<1x1x4x8xf32> {ring.name = "do"}, %arg6: memref<1x1x4x8xf32> {ring.name = "dq"}, %arg7: memref<1x1x4x8xf32> {ring.name = "dk"}, %arg8: memref<1x1x4x8xf32> {ring.name = "dv"}) attributes {ring.backward = "no_mask", ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = causal, balance = none, scale = 0.35355339059327373 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx = shard.process_multi_index on @r2 : index
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
  ring.stage 0 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 computes query rows [0, 4) against rows [0, 4) of ring rank 0's keys without a mask, but the causal mask hides some of those pairs}}
    ring.block_attention_backward ins(%arg0, %arg1, %arg2, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx) kv_owner(%proc_linear_idx) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35355339059327373
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x1x4x8xf32>
  }
  ring.stage 1 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx, %c1 : index
    %c2 = arith.constant 2 : index
    %1 = arith.remui %0, %c2 : index
    ring.zero %alloc_5 : memref<1x1x4x8xf32>
    ring.zero %alloc_6 : memref<1x1x4x8xf32>
    %2 = arith.cmpi ult, %1, %proc_linear_idx : index
    scf.if %2 {
      ring.block_attention_backward ins(%arg0, %alloc_3, %alloc_4, %arg5, %arg4, %alloc : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4xf32>, memref<1x1x4xf32>) outs(%alloc_0, %alloc_5, %alloc_6 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) q_owner(%proc_linear_idx) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35355339059327373
    } else {
    }
  }
  ring.shift %alloc_5, %alloc_7 stage 1 : memref<1x1x4x8xf32>
  ring.shift %alloc_6, %alloc_8 stage 1 : memref<1x1x4x8xf32>
  ring.accumulate ins(%alloc_7 : memref<1x1x4x8xf32>) outs(%alloc_1 : memref<1x1x4x8xf32>)
  ring.accumulate ins(%alloc_8 : memref<1x1x4x8xf32>) outs(%alloc_2 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_0 : memref<1x1x4x8xf32>) outs(%arg6 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_1 : memref<1x1x4x8xf32>) outs(%arg7 : memref<1x1x4x8xf32>)
  ring.convert ins(%alloc_2 : memref<1x1x4x8xf32>) outs(%arg8 : memref<1x1x4x8xf32>)
  return
}

