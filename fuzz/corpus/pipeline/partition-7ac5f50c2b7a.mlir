// Ring 4 x head groups 2 x dim slices 2, causal GQA: local shapes
// [B, Hq/n, L/P, D/m] and [B, Hkv/n, L/P, D/m], destination-passing memrefs,
// coordinates from shard.process_multi_index.
shard.grid @cluster(shape = 4x2x2)
func.func @attn(%q: tensor<1x32x1024x128xbf16>, %k: tensor<1x8x1024x128xbf16>, %v: tensor<1x8x1024x128xbf16>)
    -> (tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>) {
  %s = shard.sharding @cluster split_axes = [[], [1], [0], [2]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x1024x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x8x1024x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x8x1024x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x32x1024x128xbf16>, tensor<1x8x1024x128xbf16>, tensor<1x8x1024x128xbf16> -> tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
  return %o, %lse : tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
}
