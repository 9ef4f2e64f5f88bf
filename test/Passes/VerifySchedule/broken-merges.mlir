// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// Broken schedules around the merges, fused (ring.block_attention_accumulate)
// and not: every partial must be merged exactly once into the accumulator
// that is finalized, and every merge must read initialised rows.

// The fused form accumulates the same K/V block twice: its partial would be merged twice.
shard.grid @r2(shape = 2)
func.func @double_merge_fused(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 first
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 computes query rows [0, 4) against rows [0, 4) of ring rank 1's keys a second time (first at stage 1)}}
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Unfused: one partial merged twice.
shard.grid @r2(shape = 2)
func.func @double_merge(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 merges a partial result that no block computed}}
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Unfused: the partial of stage 1 is never merged.
shard.grid @r2(shape = 2)
func.func @missing_merge(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) this partial result is never merged}}
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// A `first` block after another block of the same rows would drop the merged result of stage 0.
shard.grid @r2(shape = 2)
func.func @first_drops_merged(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 first
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 is marked `first` but accumulator row 0 already holds merged blocks (last at stage 0); writing it would drop them}}
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 first
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// No ring.fill_partial and no `first` block: the merge would read garbage.
shard.grid @r2(shape = 2)
func.func @uninitialised(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 merges into accumulator row 0, which nothing initialised (no ring.fill_partial and no `first` block wrote it)}}
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// The `first` blocks cover rows [0, 2) only and there is no ring.fill_partial.
shard.grid @r2(shape = 2)
func.func @uncovered_first(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 2] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 first
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 merges into accumulator row 2, which nothing initialised (no ring.fill_partial and no `first` block wrote it)}}
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [2, 2] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// The fused op of stage 0 accumulates into a buffer that is never finalized.
shard.grid @r2(shape = 2)
func.func @wrong_acc(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 merges into a buffer that is never finalized afterwards; the merged result is lost}}
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao2, %al2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 first
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// The fused op of stage 1 pairs the accumulator with another LSE buffer.
shard.grid @r2(shape = 2)
func.func @wrong_lse(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %ao2 = memref.alloc() : memref<1x1x4x8xf32>
  %al2 = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention_accumulate ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35 first
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 pairs an accumulator with another LSE buffer than its earlier uses}}
    ring.block_attention_accumulate ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) acc(%ao, %al2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}
