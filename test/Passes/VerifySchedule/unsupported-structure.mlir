// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// Per-rank IR that passes the op verifiers but that the checker cannot
// prove, or that would silently lose the result: each is rejected with a
// diagnostic (several used to crash or pass).

// The result goes to a scratch buffer, not to the function's o/lse.
shard.grid @r2(shape = 2)
func.func @finalize_elsewhere(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
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
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) finalizes into buffers other than the function's o and lse arguments; the result would be lost}}
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%po2, %pl2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// Queries read from an uninitialised scratch buffer.
shard.grid @r2(shape = 2)
func.func @queries_elsewhere(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
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
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 reads queries from a buffer other than the function's q argument}}
    ring.block_attention ins(%po2, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
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

// A merge hidden in a loop would escape the trace.
shard.grid @r2(shape = 2)
func.func @in_a_loop(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
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
  %c0 = arith.constant 0 : index
  scf.for %i = %c0 to %c2 step %c1 {
    // expected-error @+1 {{is nested in 'scf.for', which ring-verify-schedule cannot follow (it follows ring.stage and scf.if)}}
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}

// -----

// A declaration has no schedule to prove (it used to crash the walk).
shard.grid @r2(shape = 2)
// expected-error @+1 {{@declared has a ring.plan but no body to check}}
func.func private @declared(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// INT64_MIN rem -1 traps on x86; the checker refuses to evaluate it.
shard.grid @r2(shape = 2)
func.func @trapping_index_math(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %min = arith.constant -9223372036854775808 : index
  %m1 = arith.constant -1 : index
  // expected-error @+1 {{cannot be evaluated by ring-verify-schedule}}
  %bad = arith.remsi %min, %m1 : index
  %src = arith.addi %bad, %s1 : index
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
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}
