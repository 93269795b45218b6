r"""
---
title: Add & norm - LayerNorm inside the Transformer
summary: Post-LN and Pre-LN Transformer blocks from scratch, LayerNorm as a per-token operation, and Xiong et al.'s gradient-norm result reproduced by measurement.
---

# Add & norm: LayerNorm inside the Transformer

Every Transformer block has two sub-layers, multi-head self-attention and a feed-forward
network (FFN), and each is wrapped in a residual connection and a
[LayerNorm](../layer_norm/index.md). There are two ways to arrange the three, and the
choice decides whether a deep Transformer trains without a learning-rate warm-up.

**Post-LN**, the original Transformer ([Vaswani et al., 2017](https://arxiv.org/abs/1706.03762),
"add & norm"): normalize *after* adding the residual,

$$x_{l+1} = \mathrm{LN}\big(x_l + F(x_l)\big)$$

**Pre-LN**, GPT-2 and most large language models since: normalize only the sub-layer's
*input*, and keep the residual path free of any normalization,

$$x_{l+1} = x_l + F\big(\mathrm{LN}(x_l)\big)$$

The Pre-LN residual stream $x_L = x_0 + \sum_l F_l(\cdot)$ is never normalized on the way,
so a Pre-LN model needs **one more LayerNorm** after its last block, before the output layer.

### LayerNorm normalizes each token on its own

In a Transformer the activations are $(B, T, C)$: batch, tokens, channels, and
`LayerNorm(C)` computes one mean and one variance *per token*, over its $C$ channels. No
statistic is shared between tokens or between sequences, so a token's output does not depend
on which other tokens are in the batch, on padding, or on the sequence length (unlike
[BatchNorm](../ln_vs_bn/index.md)). The `_test()` below checks this on a $(2, 3, 4)$
embedding against the hand computation, and by changing the other tokens.

### Why the arrangement matters: gradients at initialization

[Xiong et al., 2020](https://arxiv.org/abs/2002.04745) ("On Layer Normalization in the
Transformer Architecture") show with mean-field theory that at initialization, for Post-LN,
the expected gradient of the parameters *near the output* is large: the gradient norm of the
FFN weights $W^{2,l}$ grows with the layer index $l$, while for Pre-LN it stays flat (their
bound for the last layer is smaller by a factor $\sqrt{L}$). Their Figure 3 plots the gradient
norm of the FFN weights of each layer at initialization for a 6-6 layer translation model.
A large step on the top layers is what makes Post-LN unstable without warm-up.

We measure the same thing below: a stack of 8 blocks (bidirectional, no dropout) with Xavier-initialized
weights, token embeddings $\mathcal{N}(0, 1)$ plus sinusoidal positions, random tokens in, a linear
output layer and a cross-entropy loss on random targets, one backward pass, and the Frobenius
norm of $\partial \mathcal{L} / \partial W^{2,l}$ (the FFN's second, output weight matrix,
`linear2.weight`) for every layer $l$, averaged over 8 random initializations:

![Gradient norm of each layer's FFN weight W2 at initialization, Post-LN and Pre-LN, 8 layers](grad_norm.svg)

{{ grad_norm_table }}

What reproduces, and what does not, in this small setting (the numbers are measured when the page
is built, and `_test()` asserts the trends):

* **Pre-LN's gradients decrease toward the top**, and its top layer's gradient is several times
  smaller than Post-LN's. The gap at the top widens with depth (the second table: about 1.4x
  for 2 layers, about 3x for 8 and 16, where it levels off in our runs), the direction of the
  paper's Theorem 1, whose bound for Pre-LN's last layer is $\sqrt{L}$ times smaller.
* **Post-LN's gradients are tilted toward the top relative to Pre-LN's** (a larger top/bottom
  ratio), but in this 8-layer encoder they are roughly *flat*, not clearly growing as in the
  paper's Figure 3. Their figure is measured on a 6-6 encoder-decoder translation model and real data;
  with random tokens, and no encoder-decoder attention, each Post-LN LayerNorm's $1/\sigma$
  shrinking of the gradient is almost exactly paid back by the gradient that flows through
  the sub-layer's own branch, so we do not see the growth. We report what we measure.

{{ depth_table }}

The [training comparison](experiment.md) then trains both on a synthetic task, with and
without warm-up.
"""

import math
from typing import List

import torch
from torch import nn
import torch.nn.functional as F

from labml_nn_norm.layer_norm import LayerNorm


class SelfAttention(nn.Module):
    r"""
    ## Multi-head self-attention

    $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\Big(\frac{Q K^\top}{\sqrt{d_k}}\Big) V$$

    computed for `n_heads` heads of $d_k = C / \text{n\_heads}$ channels each. With `causal=True`
    token $t$ attends only to tokens $\le t$ (a language model's decoder).
    The parameter layout (`in_proj_weight`, `out_proj`) is `torch.nn.MultiheadAttention`'s, so
    `_test()` can load PyTorch's weights into this block.
    """

    def __init__(self, d_model: int, n_heads: int, causal: bool = False):
        super().__init__()
        assert d_model % n_heads == 0, 'd_model must be divisible by n_heads'
        self.n_heads, self.causal = n_heads, causal
        # $W^Q, W^K, W^V$ stacked in one $(3C, C)$ matrix, and the output projection $W^O$
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        # PyTorch's initialization for `in_proj_weight`
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape  # batch, tokens, channels
        H = self.n_heads
        # Queries, keys and values, each split into heads: $(B, H, T, d_k)$
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        #
        # Scores $\frac{Q K^\top}{\sqrt{d_k}}$: $(B, H, T, T)$, one row per query token
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // H)
        # The causal mask: a query may not see later tokens
        if self.causal:
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float('-inf'))
        #
        # Softmax over the keys, then the weighted sum of values: $(B, H, T, d_k)$
        y = scores.softmax(dim=-1) @ v
        # Heads side by side again, $(B, T, C)$, then $W^O$
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.out_proj(y)


class FeedForward(nn.Module):
    r"""
    ## Feed-forward network

    $\mathrm{FFN}(x) = \max(0, x W^1 + b^1) W^2 + b^2$, applied to every token separately.
    $W^2$ (`linear2.weight`) is the matrix whose gradient Xiong et al. study.
    """

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(F.relu(self.linear1(x)))


class Block(nn.Module):
    r"""
    ## One Transformer block, both arrangements

    `norm_first=False` is Post-LN, `norm_first=True` is Pre-LN (the same flag as
    `torch.nn.TransformerEncoderLayer`). Both have the same parameters: two LayerNorms of
    `d_model` channels, the attention and the FFN. No dropout, to keep the comparison exact.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, norm_first: bool, causal: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = SelfAttention(d_model, n_heads, causal)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Pre-LN: $x + F(\mathrm{LN}(x))$; the residual path is never normalized
        if self.norm_first:
            x = x + self.self_attn(self.norm1(x))
            x = x + self.ffn(self.norm2(x))
        # Post-LN: $\mathrm{LN}(x + F(x))$; every residual sum is normalized
        else:
            x = self.norm1(x + self.self_attn(x))
            x = self.norm2(x + self.ffn(x))
        return x


class Transformer(nn.Module):
    r"""
    ## A stack of blocks

    Token embeddings plus sinusoidal positions, `n_layers` blocks, and a linear output layer over the
    vocabulary. Pre-LN adds the final LayerNorm (`norm_final`); Post-LN's last block already ends
    in a LayerNorm, so it needs none.
    """

    def __init__(self, vocab_size: int, max_len: int, n_layers: int, d_model: int, n_heads: int,
                 d_ff: int, norm_first: bool, causal: bool = False):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        # Vaswani et al.'s fixed sinusoidal positions, $\sin(t / 10000^{2i/C})$ and $\cos$: not trained
        t, i = torch.arange(max_len)[:, None], torch.arange(0, d_model, 2)
        pos = torch.zeros(max_len, d_model)
        pos[:, 0::2], pos[:, 1::2] = torch.sin(t / 10000 ** (i / d_model)), torch.cos(t / 10000 ** (i / d_model))
        self.register_buffer('pos', pos, persistent=False)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff, norm_first, causal) for _ in range(n_layers)])
        self.norm_final = LayerNorm(d_model) if norm_first else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size)
        self.reset_parameters()

    def reset_parameters(self):
        # The initialization Xiong et al. analyse: Xavier for every weight matrix, zero biases.
        # Token embeddings $\mathcal{N}(0, 1)$ (fairseq's $\mathcal{N}(0, 1/C)$ times its $\sqrt{C}$ scale); LayerNorms start as $\gamma = 1, \beta = 0$.
        for name, p in self.named_parameters():
            if p.dim() == 2 and 'emb' not in name:
                nn.init.xavier_uniform_(p)
            elif name.endswith('bias'):
                nn.init.zeros_(p)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        B, T = tokens.shape  # batch, tokens
        x = self.tok_emb(tokens) + self.pos[:T]
        for block in self.blocks:
            x = block(x)
        # Logits $(B, T, \text{vocab})$
        return self.head(self.norm_final(x))


def ffn_grad_norms(norm_first: bool, n_layers: int = 8, seeds: int = 8, d_model: int = 64,
                   batch: int = 16, seq_len: int = 32, vocab: int = 32) -> List[float]:
    r"""
    ## Measuring the gradients at initialization

    $\lVert \partial \mathcal{L} / \partial W^{2,l} \rVert_F$ for $l = 1 \dots L$, averaged over
    `seeds` fresh models, each with its own random tokens and random targets. The loss is the
    cross-entropy of the output layer, as for a language model; nothing is trained.
    """
    total = torch.zeros(n_layers, dtype=torch.float64)
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = Transformer(vocab, seq_len, n_layers, d_model, n_heads=4, d_ff=4 * d_model, norm_first=norm_first)
        tokens = torch.randint(vocab, (batch, seq_len))
        targets = torch.randint(vocab, (batch, seq_len))
        loss = F.cross_entropy(model(tokens).reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        total += torch.tensor([b.ffn.linear2.weight.grad.norm().item() for b in model.blocks], dtype=torch.float64)
    return (total / seeds).tolist()


_GRAD_NORMS = {}
DEPTHS = (2, 4, 8, 16)


def _measured_grad_norms():
    # Both arrangements, measured once per process (the test and the figure share them):
    # every layer of an 8-layer stack, and the top layer of stacks of 2 to 16 layers
    if not _GRAD_NORMS:
        _GRAD_NORMS['Post-LN'] = ffn_grad_norms(norm_first=False)
        _GRAD_NORMS['Pre-LN'] = ffn_grad_norms(norm_first=True)
        _GRAD_NORMS['depth'] = {name: [ffn_grad_norms(norm_first, n_layers=L, seeds=4)[-1] for L in DEPTHS]
                                for name, norm_first in (('Post-LN', False), ('Pre-LN', True))}
    return _GRAD_NORMS


def _artifacts():
    """
    ## The figures

    Drawn at build time from the measurement above, and from the training comparison's cached
    results (`results/*.json`, written by `python -m labml_nn_norm.transformer.experiment --run`).
    """
    import matplotlib.pyplot as plt

    norms = _measured_grad_norms()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, marker in (('Post-LN', 'o'), ('Pre-LN', 's')):
        values = norms[name]
        ax.plot(range(1, len(values) + 1), values, marker=marker, label=name)
    ax.set_xlabel('layer l (1 = next to the input)')
    ax.set_ylabel('‖∂L/∂W2‖ at initialization')
    ax.set_title('FFN weight gradients at initialization, 8 layers, mean of 8 seeds', fontsize=10)
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.grid(alpha=0.3)
    #
    # The numbers behind the plot, as a Markdown table for the page
    rows = ['| layer | ' + ' | '.join(str(l) for l in range(1, len(norms['Post-LN']) + 1)) + ' | top / bottom |',
            '| --- ' * (len(norms['Post-LN']) + 2) + '|']
    for name in ('Post-LN', 'Pre-LN'):
        values = norms[name]
        rows.append(f'| {name} | ' + ' | '.join(f'{v:.3f}' for v in values) + f' | {values[-1] / values[0]:.2f} |')
    depth = norms['depth']
    depth_rows = ['| top layer ‖∂L/∂W2‖, L layers (4 seeds) | ' + ' | '.join(f'L = {L}' for L in DEPTHS) + ' |',
                  '| --- ' * (len(DEPTHS) + 1) + '|']
    for name in ('Post-LN', 'Pre-LN'):
        depth_rows.append(f'| {name} | ' + ' | '.join(f'{v:.3f}' for v in depth[name]) + ' |')
    depth_rows.append('| Post-LN / Pre-LN | ' + ' | '.join(
        f'{a / b:.2f}' for a, b in zip(depth['Post-LN'], depth['Pre-LN'])) + ' |')
    return {'grad_norm': fig, 'grad_norm_table': '\n'.join(rows), 'depth_table': '\n'.join(depth_rows)}


def _test():
    """
    ## Checks
    """
    from labml_nn_norm._check import check, check_close, section

    torch.manual_seed(0)
    section('LayerNorm normalizes each token on its own')
    #
    # The $(2, 3, 4)$ embedding: `torch.nn.LayerNorm(4, elementwise_affine=False)` equals the
    # mean and biased variance of each token's 4 channels, computed by hand
    batch_size, seq_len, dim = 2, 3, 4
    embedding = torch.randn(batch_size, seq_len, dim)
    mean = embedding.mean(dim=-1, keepdim=True)
    var = (embedding - mean).square().mean(dim=-1, keepdim=True)
    by_hand = (embedding - mean) / torch.sqrt(var + 1e-5)
    check_close('nn.LayerNorm(4, elementwise_affine=False) on (2, 3, 4) == per-token by hand',
                nn.LayerNorm(dim, elementwise_affine=False)(embedding), by_hand)
    check_close('our LayerNorm(4, elementwise_affine=False) == per-token by hand',
                LayerNorm(dim, elementwise_affine=False)(embedding), by_hand)
    check('6 tokens, 6 means', mean.shape == (2, 3, 1), str(tuple(mean.shape)))
    #
    # A token's output does not change when the *other* tokens change, or when the sequence is longer
    ln = LayerNorm(16)
    x = torch.randn(2, 5, 16)
    other = x.clone()
    other[:, 1:] = torch.randn(2, 4, 16) * 10 + 3
    longer = torch.cat([x, torch.randn(2, 20, 16)], dim=1)
    check('token 0 unchanged when tokens 1..4 change', torch.equal(ln(x)[:, 0], ln(other)[:, 0]))
    check('tokens 0..4 unchanged when 20 tokens are appended', torch.equal(ln(x), ln(longer)[:, :5]))
    #
    section('Attention against F.scaled_dot_product_attention')
    for causal in (False, True):
        attn = SelfAttention(32, n_heads=4, causal=causal)
        nn.init.normal_(attn.in_proj_weight, std=0.3)
        x = torch.randn(3, 7, 32)
        B, T, C = x.shape
        q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).split(C, dim=2)
        q, k, v = (t.view(B, T, 4, C // 4).transpose(1, 2) for t in (q, k, v))
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).reshape(B, T, C)
        check_close(f'causal={causal}', attn(x), attn.out_proj(ref))
    #
    # Causal: token $t$'s output does not change when later tokens change
    attn = SelfAttention(32, n_heads=4, causal=True)
    x2 = x.clone()
    x2[:, 4:] = torch.randn(3, 3, 32)
    check('causal: tokens 0..3 unchanged when tokens 4..6 change', torch.allclose(attn(x)[:, :4], attn(x2)[:, :4]))
    #
    # Both arrangements against `torch.nn.TransformerEncoderLayer` (same weights, no dropout):
    # `norm_first=False` is Post-LN, `norm_first=True` is Pre-LN
    section('Blocks against torch.nn.TransformerEncoderLayer')
    for norm_first in (False, True):
        ref = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, batch_first=True,
                                         norm_first=norm_first)
        ours = Block(32, 4, 64, norm_first=norm_first)
        mapping = {'self_attn.in_proj_weight': 'self_attn.in_proj_weight', 'self_attn.in_proj_bias': 'self_attn.in_proj_bias',
                   'self_attn.out_proj.weight': 'self_attn.out_proj.weight', 'self_attn.out_proj.bias': 'self_attn.out_proj.bias',
                   'linear1.weight': 'ffn.linear1.weight', 'linear1.bias': 'ffn.linear1.bias',
                   'linear2.weight': 'ffn.linear2.weight', 'linear2.bias': 'ffn.linear2.bias',
                   'norm1.weight': 'norm1.weight', 'norm1.bias': 'norm1.bias',
                   'norm2.weight': 'norm2.weight', 'norm2.bias': 'norm2.bias'}
        with torch.no_grad():
            for p in ref.parameters():
                p.normal_(std=0.2)
        ours.load_state_dict({mapping[k]: v for k, v in ref.state_dict().items()})
        x = torch.randn(2, 9, 32) * 2 + 1
        # (the reference in training mode: its inference fast path is a different kernel)
        check_close(f'{"Pre" if norm_first else "Post"}-LN block == TransformerEncoderLayer(norm_first={norm_first})',
                    ours(x), ref.train()(x))
    #
    # Post-LN ends every block in a LayerNorm, so its output has zero mean and unit variance
    # per token; Pre-LN's residual stream is never normalized and grows with depth
    model_post = Transformer(32, 16, 6, 64, 4, 256, norm_first=False)
    model_pre = Transformer(32, 16, 6, 64, 4, 256, norm_first=True)
    tokens = torch.randint(32, (4, 16))
    h_post, h_pre = model_post.tok_emb(tokens), model_pre.tok_emb(tokens)
    for b_post, b_pre in zip(model_post.blocks, model_pre.blocks):
        h_post, h_pre = b_post(h_post), b_pre(h_pre)
    check('Post-LN: last block output has per-token std ≈ 1', abs(h_post.std(-1, unbiased=False).mean().item() - 1) < 1e-3)
    check('Pre-LN: residual stream std > 1 before norm_final, hence the final LayerNorm',
          h_pre.std(-1).mean().item() > 1.2, f'std {h_pre.std(-1).mean().item():.2f}')
    #
    section("Xiong et al. 2020: ‖∂L/∂W2‖ per layer at initialization, 8 layers")
    norms = _measured_grad_norms()
    post, pre = norms['Post-LN'], norms['Pre-LN']
    check('measured', True, 'Post-LN ' + ' '.join(f'{v:.3f}' for v in post))
    check('measured', True, 'Pre-LN  ' + ' '.join(f'{v:.3f}' for v in pre))
    post_ratio, pre_ratio = post[-1] / post[0], pre[-1] / pre[0]
    check('Pre-LN: decreases toward the top (top/bottom < 0.8)', pre_ratio < 0.8, f'{pre_ratio:.2f}')
    check('Post-LN: does not decrease (top/bottom > 0.9)', post_ratio > 0.9, f'{post_ratio:.2f}')
    check("Post-LN's top/bottom ratio > 1.4x Pre-LN's", post_ratio > 1.4 * pre_ratio,
          f'{post_ratio:.2f} vs {pre_ratio:.2f}')
    check('Post-LN top layer gradient > 2x Pre-LN top layer gradient', post[-1] > 2 * pre[-1],
          f'{post[-1]:.3f} vs {pre[-1]:.3f}')
    # Theorem 1's depth dependence: the top-layer gap widens as the stack gets deeper
    gap = [a / b for a, b in zip(norms['depth']['Post-LN'], norms['depth']['Pre-LN'])]
    check(f'top layer, Post-LN / Pre-LN: at L = 16 > 1.5x its value at L = 2', gap[-1] > 1.5 * gap[0],
          ' '.join(f'L={L}: {g:.2f}' for L, g in zip(DEPTHS, gap)))

if __name__ == '__main__':
    _test()
