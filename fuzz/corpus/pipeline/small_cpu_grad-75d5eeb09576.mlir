// The small spec of small_cpu.mlir for training: `grad` makes the artifact
// export the backward pass too, small_cpu_grad_attention_backward(q, k, v,
// o, lse, do) -> (dq, dk, dv). Causal GQA (4 query heads over 2 key/value
// heads), 256 tokens, head_dim 64, bf16, a ring of 4 ranks, zigzag.
shard.grid @ring4(shape = 4)

func.func @small_cpu_grad(%q: tensor<1x4x256x64xbf16>,
                          %k: tensor<1x2x256x64xbf16>,
                          %v: tensor<1x2x256x64xbf16>)
    -> (tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>) {
  %s = shard.sharding @ring4 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x256x64xbf16>
  %k1 = shard.shard %k to %s : tensor<1x2x256x64xbf16>
  %v1 = shard.shard %v to %s : tensor<1x2x256x64xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> balance<zigzag> grad
      : tensor<1x4x256x64xbf16>, tensor<1x2x256x64xbf16>,
        tensor<1x2x256x64xbf16>
      -> tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>
  return %o, %lse : tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>
}
