// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// Deliberately broken per-rank schedules on a ring of 2: each must be
// rejected with an error that names the rank, the stage and the blocks.

// A rank reads the receive buffer before waiting for it.
shard.grid @r2(shape = 2)
func.func @read_in_flight(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 uses a buffer whose transfer (started at stage 0) has not been waited on}}
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// The K/V owner the op names is not the block the buffer holds.
shard.grid @r2(shape = 2)
func.func @wrong_owner(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
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
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 says its K/V block comes from ring rank 0 but the buffer holds ring rank 1's block}}
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Stage 1 is missing: the keys of the other rank are never seen.
shard.grid @r2(shape = 2)
// expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) query rows [0, 4) never see rows [0, 4) of ring rank 1's keys, which the mask leaves visible}}
func.func @missing_block(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
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
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// The own block is computed twice.
shard.grid @r2(shape = 2)
func.func @twice(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
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
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 computes query rows [0, 4) against rows [0, 4) of ring rank 0's keys a second time (first at stage 0)}}
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// A transfer is never waited on.
shard.grid @r2(shape = 2)
func.func @no_wait(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) the transfer started at stage 0 is never waited on}}
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Only ring rank 0 shifts V: the ring would deadlock.
shard.grid @r2(shape = 2)
func.func @unmatched(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %is0 = arith.cmpi eq, %p, %c1 : index
    scf.if %is0 {
      // expected-error @+1 {{rank (ring 1, head group 0, dim slice 0) issues 2 transfers but rank (ring 0, head group 0, dim slice 0) issues 1; the unmatched one would never complete}}
      ring.shift %v, %vb stage 0 : memref<1x1x4x8xf32>
    }
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// A partial result is overwritten before it is merged.
shard.grid @r2(shape = 2)
func.func @unmerged(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 overwrites the partial result of stage 0 before it is merged}}
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// A merge whose rows are not the block's rows.
shard.grid @r2(shape = 2)
func.func @merge_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
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
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 merges rows that differ from the q_rows of the block that computed the partial}}
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 2]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// A transfer into a buffer that is still being sent.
shard.grid @r2(shape = 2)
func.func @overwrite_in_flight(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{uses a buffer that another transfer still has in flight}}
    %tx = ring.shift_start %kb, %k stage 0 : memref<1x1x4x8xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
    ring.shift_wait %tx
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Causal: the diagonal block computed without a mask.
shard.grid @r2(shape = 2)
func.func @diag_unmasked(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = causal, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 computes query rows [0, 4) against rows [0, 4) of ring rank 0's keys without a mask, but the causal mask hides some of those pairs}}
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    %before = arith.cmpi ult, %src, %p : index
    scf.if %before {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    }
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Causal: a mask on attention without one.
shard.grid @r2(shape = 2)
func.func @spurious_mask(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{applies a causal mask, but the attention has no mask}}
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<causal> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Index arithmetic the checker cannot evaluate.
shard.grid @r2(shape = 2)
func.func @opaque(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
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
    %x = arith.index_castui %c1 : index to i64
    // expected-error @+1 {{cannot be evaluated by ring-verify-schedule}}
    %y = arith.shli %x, %x : i64
    %z = arith.index_cast %y : i64 to index
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%z) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// The block of stage 1 reads the received V as its keys and K as its values
// (the shapes agree, so only the data flow shows it).
shard.grid @r2(shape = 2)
func.func @kv_swapped(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
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
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 1 reads as its keys a buffer that holds ring rank 1's V block}}
    ring.block_attention ins(%q, %vb, %kb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}
