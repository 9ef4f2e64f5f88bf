// Ring 4 x head groups 2 x dim slices 2, causal GQA, zigzag by default.
shard.grid @cluster(shape = 4x2x2)
func.func @three_level(%q: tensor<1x32x1024x128xbf16>, %k: tensor<1x8x1024x128xbf16>, %v: tensor<1x8x1024x128xbf16>)
    -> (tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>) {
  %s = shard.sharding @cluster split_axes = [[], [1], [0], [2]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x1024x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x8x1024x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x8x1024x128xbf16>
  // expected-remark @+1 {{plan: batch=1,heads=32,kv_heads=8,seq=1024,head_dim=128,dtype=bf16,causal=1,balance=zigzag,scale=0.088388347648318433,grid=[4x2x2],axes=[0,1,2] ranks=16}}
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x32x1024x128xbf16>, tensor<1x8x1024x128xbf16>, tensor<1x8x1024x128xbf16> -> tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
  return %o, %lse : tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
}
