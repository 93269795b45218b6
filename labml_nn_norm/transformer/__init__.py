r"""
---
title: Add & norm - LayerNorm inside the Transformer
summary: Post-LN and Pre-LN Transformer blocks from scratch, LayerNorm as a per-token operation,
  and Xiong et al.'s gradient-norm measurements at initialization re-measured, panel by panel.
section: LayerNorm in the Transformer
order: 21
nav: Add & norm, Post-LN vs Pre-LN
---

# Add & norm: LayerNorm inside the Transformer

Every Transformer block has two sub-layers, multi-head self-attention and a feed-forward
network (FFN), and each is wrapped in a residual connection and a
[LayerNorm](../layer_norm/index.md). There are two ways to arrange the three.

**Post-LN**, the original Transformer: "the output of each sub-layer is
LayerNorm(x + Sublayer(x))" ([Vaswani et al., 2017](https://arxiv.org/abs/1706.03762), §3.1),

$$x_{l+1} = \mathrm{LN}\big(x_l + F(x_l)\big)$$

**Pre-LN**, as in GPT-2's code
([`model.py`, `block`](https://github.com/openai/gpt-2/blob/9b63575ef42771a015060c964af2c3da4cf7c8ab/src/model.py#L123-L130)):
normalize only the sub-layer's *input*, and keep the residual path free of any normalization,

$$x_{l+1} = x_l + F\big(\mathrm{LN}(x_l)\big)$$

The Pre-LN residual stream $x_L = x_0 + \sum_l F_l(\cdot)$ is never normalized on the way,
so a Pre-LN model needs **one more LayerNorm** after its last block, before the output layer
(GPT-2's `ln_f`, [line 167](https://github.com/openai/gpt-2/blob/9b63575ef42771a015060c964af2c3da4cf7c8ab/src/model.py#L167)).
PyTorch offers both through one flag, `norm_first`, of `torch.nn.TransformerEncoderLayer`
([`transformer.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/transformer.py#L940-L954));
`_test()` checks that our blocks compute exactly what it computes.

## What you will learn

* why `LayerNorm(C)` in a Transformer is a per-token operation:
  [LayerNorm normalizes each token on its own](#layernorm-normalizes-each-token-on-its-own);
* the two arrangements as code and as drawings, and what each does to the residual stream:
  [one Transformer block, both arrangements](#one-transformer-block-both-arrangements) and
  [the residual stream](#post-ln-normalizes-the-residual-stream-pre-ln-lets-it-grow);
* what Xiong et al.'s Theorem 1 and Figure 3 say about gradients at initialization:
  [gradients at initialization](#gradients-at-initialization-what-xiong-et-al-show);
* how to turn a plotted trend into a verdict with an interval, and what the re-measurement
  finds, panel by panel: [re-measured here](#re-measured-here) and
  [what the page says about Figure 3](#what-the-page-says-about-figure-3);
* in the [exercises](#exercises): a LayerNorm applied twice, the statistics shared across
  tokens, and Lemma 2's 3/2 by hand.
"""

import json
import math
import operator
import sys
import time
from pathlib import Path
from typing import Optional

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from labml_nn_norm._check import check, check_close, check_group
from labml_nn_norm._record import run_record
from labml_nn_norm.layer_norm import LayerNorm


@check_group
def _check_per_token():
    r"""
    ## LayerNorm normalizes each token on its own

    In a Transformer the activations are $(B, T, C)$: batch, tokens, channels, and
    `LayerNorm(C)` computes one mean and one variance *per token*, over its $C$ channels. No
    statistic is shared between tokens or between sequences, so a token's output does not depend
    on which other tokens are in the batch, on padding, or on the sequence length (unlike
    [BatchNorm](../ln_vs_bn/index.md)). The `_test()` below checks this on a $(2, 3, 4)$
    embedding against the hand computation, and by changing the other tokens.
    """

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
    # A token's output does not change when the *other* tokens change, or when the sequence is
    # longer
    ln = LayerNorm(16)
    x = torch.randn(2, 5, 16)
    other = x.clone()
    other[:, 1:] = torch.randn(2, 4, 16) * 10 + 3
    longer = torch.cat([x, torch.randn(2, 20, 16)], dim=1)
    check('token 0 unchanged when tokens 1..4 change', torch.equal(ln(x)[:, 0], ln(other)[:, 0]))
    check('tokens 0..4 unchanged when 20 tokens are appended',
          torch.equal(ln(x), ln(longer)[:, :5]))


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

    The two drawings are made by `figure_block()` below from this `forward`, traced with
    `torch.fx`: input at the bottom, the residual connections dashed, the LayerNorms shaded.

    {{ block_post }}

    {{ block_pre }}
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, norm_first: bool,
                 causal: bool = False):
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


class _BlockTracer(torch.fx.Tracer):
    # The block's own sub-modules are the boxes of the drawing: do not trace into them
    def is_leaf_module(self, module: nn.Module, name: str) -> bool:
        return isinstance(module, (SelfAttention, FeedForward, LayerNorm)) or \
            super().is_leaf_module(module, name)


def block_steps(norm_first: bool) -> list:
    """
    ## The block as a list of steps, read from its code

    `Block.forward` traced with `torch.fx`: one `(name, kind, inputs)` per step, in the order the
    code runs them, `kind` one of `input`, `LayerNorm`, `Attention`, `FFN`, `+`, `output`. The
    drawing below is made from this list, so it shows what `forward` does, not what we meant it
    to do.
    """
    graph = _BlockTracer().trace(Block(8, 1, 8, norm_first))
    kinds = {'self_attn': 'Attention', 'ffn': 'FFN', 'norm1': 'LayerNorm', 'norm2': 'LayerNorm'}
    steps = []
    for node in graph.nodes:
        kind = {'placeholder': 'input', 'output': 'output',
                'call_module': kinds.get(str(node.target)),
                'call_function': '+' if node.target is operator.add else None}[node.op]
        assert kind is not None, f'no drawing for {node.op} {node.target}'
        steps.append((node.name, kind, [a.name for a in node.all_input_nodes]))
    return steps


def norms_on_residual_path(steps: list) -> int:
    # Walk back from the output along the residual path: at each `+` take the input that skips
    # the sub-layer (the one not computed just before it); count the LayerNorms passed
    index = {name: i for i, (name, _, _) in enumerate(steps)}
    name, count = steps[-1][2][0], 0
    while steps[index[name]][1] != 'input':
        _, kind, inputs = steps[index[name]]
        count += kind == 'LayerNorm'
        name = min(inputs, key=index.get) if kind == '+' else inputs[0]
    return count


def figure_block(norm_first: bool) -> str:
    """
    ## The block, drawn

    An SVG of the steps of `block_steps()`, input at the bottom: the main path straight up, each
    residual connection as a line on the right that skips its sub-layer, LayerNorms shaded.
    Colours are `currentColor` and one translucent orange, so it reads on light and dark pages.
    """
    steps = block_steps(norm_first)
    name = 'Pre-LN' if norm_first else 'Post-LN'
    norms = sum(kind == 'LayerNorm' for _, kind, _ in steps)
    caption = (f'{name}: the residual path from input to output passes through '
               f'{norms_on_residual_path(steps)} of the block\'s {norms} LayerNorms.')
    step_y, width, cx, skip_x = 46, 190, 75, 160
    height = step_y * (len(steps) - 1) + 30
    y = {n: height - 15 - i * step_y for i, (n, _, _) in enumerate(steps)}
    order = [n for n, _, _ in steps]
    marker = f'arrow-{name}'
    parts = [f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>']
    kind_of = {n: kind for n, kind, _ in steps}
    for n, kind, inputs in steps:
        for source in inputs:
            if order.index(source) == order.index(n) - 1:
                # The main path: straight up from the step before
                parts.append(f'<line x1="{cx}" y1="{y[source] - 13}" x2="{cx}" y2="{y[n] + 13}" '
                             f'stroke="currentColor" marker-end="url(#{marker})"/>')
            else:
                # A residual connection: from the right of its source, around the sub-layer, into
                # the sum
                right = cx + {'input': 14, '+': 11}.get(kind_of[source], 50)
                parts.append(f'<path d="M{right},{y[source]} H{skip_x} V{y[n]} H{cx + 12}" '
                             f'fill="none" stroke="currentColor" stroke-dasharray="4 3" '
                             f'marker-end="url(#{marker})"/>')
        if kind in ('input', 'output'):
            label = 'xₗ₊₁' if kind == 'output' else 'xₗ'
            parts.append(f'<text x="{cx}" y="{y[n] + 5}" text-anchor="middle" '
                         f'fill="currentColor">{label}</text>')
        elif kind == '+':
            parts.append(f'<circle cx="{cx}" cy="{y[n]}" r="11" fill="none" '
                         f'stroke="currentColor"/><text x="{cx}" y="{y[n] + 5}" '
                         f'text-anchor="middle" fill="currentColor">+</text>')
        else:
            fill = '#f08c00" fill-opacity="0.3' if kind == 'LayerNorm' else 'currentColor" ' \
                   'fill-opacity="0.06'
            parts.append(f'<rect x="{cx - 50}" y="{y[n] - 13}" width="100" height="26" rx="4" '
                         f'fill="{fill}" stroke="currentColor"/><text x="{cx}" y="{y[n] + 5}" '
                         f'text-anchor="middle" fill="currentColor">{kind}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{caption}" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="13"><title>{caption}</title>'
           + ''.join(parts) + '</svg>')
    return (f'<figure class="lit-block" style="display:inline-block;margin:0 1em 1em 0">{svg}'
            f'<figcaption>{caption}</figcaption></figure>')


class Transformer(nn.Module):
    r"""
    ## A stack of blocks

    Token embeddings plus sinusoidal positions, `n_layers` blocks, and a linear output layer over
    the vocabulary. Pre-LN adds the final LayerNorm (`norm_final`); Post-LN's last block already
    ends in a LayerNorm, so it needs none. `positions=False` leaves the positions out, and
    `embedded` replaces the embedding altogether (the analysis setting below feeds fresh Gaussian
    vectors).
    """

    def __init__(self, vocab_size: int, max_len: int, n_layers: int, d_model: int, n_heads: int,
                 d_ff: int, norm_first: bool, causal: bool = False, positions: bool = True):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        # Vaswani et al.'s fixed sinusoidal positions, $\sin(t / 10000^{2i/C})$ and $\cos$:
        # not trained
        t, i = torch.arange(max_len)[:, None], torch.arange(0, d_model, 2)
        pos = torch.zeros(max_len, d_model)
        if positions:
            pos[:, 0::2] = torch.sin(t / 10000 ** (i / d_model))
            pos[:, 1::2] = torch.cos(t / 10000 ** (i / d_model))
        self.register_buffer('pos', pos, persistent=False)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff, norm_first, causal)
                                     for _ in range(n_layers)])
        self.norm_final = LayerNorm(d_model) if norm_first else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size)
        self.reset_parameters()

    def reset_parameters(self):
        # Xavier (uniform) for every weight matrix and zero biases, as
        # `torch.nn.MultiheadAttention` and common Transformer code do; token embeddings keep
        # `nn.Embedding`'s $\mathcal{N}(0, 1)$; LayerNorms start as $\gamma = 1, \beta = 0$.

        for name, p in self.named_parameters():
            if p.dim() == 2 and 'emb' not in name:
                nn.init.xavier_uniform_(p)
            elif name.endswith('bias'):
                nn.init.zeros_(p)

    def forward(self, tokens: torch.Tensor,
                embedded: Optional[torch.Tensor] = None) -> torch.Tensor:
        B, T = tokens.shape  # batch, tokens
        x = self.tok_emb(tokens) + self.pos[:T] if embedded is None else embedded
        for block in self.blocks:
            x = block(x)
        # Logits $(B, T, \text{vocab})$
        return self.head(self.norm_final(x))


@check_group
def _check_residual_stream():
    """
    ## Post-LN normalizes the residual stream, Pre-LN lets it grow
    """

    # Post-LN ends every block in a LayerNorm, so its output has zero mean and unit variance
    # per token; Pre-LN's residual stream is never normalized and grows with depth
    model_post = Transformer(32, 16, 6, 64, 4, 256, norm_first=False)
    model_pre = Transformer(32, 16, 6, 64, 4, 256, norm_first=True)
    tokens = torch.randint(32, (4, 16))
    h_post, h_pre = model_post.tok_emb(tokens), model_pre.tok_emb(tokens)
    for b_post, b_pre in zip(model_post.blocks, model_pre.blocks):
        h_post, h_pre = b_post(h_post), b_pre(h_pre)
    check('Post-LN: last block output has per-token std ≈ 1',
          abs(h_post.std(-1, unbiased=False).mean().item() - 1) < 1e-3)
    check('Pre-LN: residual stream std > 1 before norm_final, hence the final LayerNorm',
          h_pre.std(-1).mean().item() > 1.2, f'std {h_pre.std(-1).mean().item():.2f}')


# ## Gradients at initialization: what Xiong et al. show
#
# [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) ("On Layer Normalization in the
# Transformer Architecture") study why Post-LN needs a learning-rate warm-up. Their
# **Theorem 1** (§3.3) bounds the gradient of the last FFN weight matrix $W^{2,L}$ at
# initialization: $\lVert \partial \tilde{\mathcal{L}} / \partial W^{2,L} \rVert_F \le
# \mathcal{O}(d\sqrt{\ln d})$ for Post-LN, independent of the depth $L$, and
# $\mathcal{O}\big(d\sqrt{\ln d / L}\big)$ for Pre-LN. The idea of the proof is Lemma 2 and
# Lemma 3: a LayerNorm's Jacobian scales as $\sqrt{d} / \lVert x \rVert_2$, Post-LN's LayerNorm
# inputs keep $\mathbb{E}\lVert x \rVert^2 = \frac{3}{2}d$ at every layer, while Pre-LN's residual
# stream grows linearly with depth, so its final LayerNorm scales the gradients down by about
# $\sqrt{L}$. The analysis uses a simplified model (below).
#
# In §3.4 they measure, on their 6-6 layer translation model at initialization and over ten random
# seeds, the quantities in their **Figure 3**:
#
# * (a), (b): for each layer's FFN, the **expected gradient** of its $W^2$: each element's
#   gradient averaged over mini-batches, then the Frobenius norm of that average. For Post-LN it
#   "grows along with the layer index"; for Pre-LN it "almost keeps the same for different layers".
# * (c), (d): the gradient norm of the last layer's $W^2$ for models of 6-6 up to 14-14 layers. For
#   Post-LN it stays about the same (around 1.6); for Pre-LN it decreases as the model deepens.
#
# They then **hypothesize** that the gradient scale is "one of the reasons" Post-LN needs warm-up
# (§3.4), and report that Post-LN trained with RAdam needs no warm-up either (§4.2): the gradient
# scale is their explanation, not a proven cause. Theorem 1 itself is an upper bound, of order
# $\mathcal{O}(\cdot)$ and holding with high probability: it says how large the last layer's
# gradient can be, not which curve it follows over a few depths.


# ## Re-measured here
#
# We measure the same statistics on stacks of encoder blocks at initialization, trained on nothing,
# with twelve initializations per stack and 32 mini-batches of 16 sequences per initialization, in
# two settings:
#
# * **practical**, the one to set against Figure 3, since Figure 3 was measured on the real 6-6
#   model ("the general model and training configuration exactly follow Section 3.2", §3.4): 4
#   heads, $d_{ff} = 2d$, $W^Q, W^K$ Xavier-random at initialization, token embeddings and
#   sinusoidal positions, on the [reversal task](experiment.md). Still a stand-in: 64 channels
#   instead of 512, an encoder only, a toy task.
# * **analysis**, the simplified model of §3.3 (single head, $d \times d$ matrices,
#   $W^Q = W^K = 0$, Gaussian Xavier), fed fresh Gaussian vectors. The paper measured nothing in
#   this setting, so this column says what the simplified model shows, never that it reproduces
#   the paper or not.
#
# `analysis_model()` below says exactly where each differs from the paper.


# The two settings we measure in. `analysis` is §3.3's, fed fresh Gaussian vectors; `practical` is
# closer to the model of their experiments (§3.2 and appendix A.1: 4 heads, an FFN twice as wide
# as the model), with $W^Q, W^K$ Xavier-random at initialization, token embeddings and positions
SETTINGS = {'analysis': dict(n_heads=1, ffn_mult=1, zero_qk=True, positions=False,
                             gaussian_inputs=True),
            'practical': dict(n_heads=4, ffn_mult=2, zero_qk=False, positions=True,
                              gaussian_inputs=False)}


def analysis_model(norm_first: bool, n_layers: int, setting: str = 'analysis', d_model: int = 64,
                   vocab: int = 16, seq_len: int = 16) -> Transformer:
    r"""
    ## The setting of Xiong et al.'s analysis

    Their §3.3 analyses a simplified Transformer at initialization: **single-head** attention,
    $W^{Q,l}, W^{K,l}, W^{V,l}, W^{1,l}, W^{2,l}$ all $d \times d$, Xavier initialization drawn
    from a **Gaussian** $\mathcal{N}\big(0, \frac{2}{n_{in} + n_{out}}\big)$, zero biases,
    $\gamma = 1$, and $W^{Q,l} = W^{K,l} = 0$, so that attention is uniform over the sequence;
    the inputs are Gaussian vectors. `setting='analysis'` builds that model, and
    `ffn_grad_stats()` feeds it a fresh $\mathcal{N}(0, 1)$ vector at every position of every
    sequence. Not rows of the 16-row embedding table: with uniform attention every token gets
    the average of its sequence, and 16 lookups into 16 rows repeat rows within a sequence and
    across sequences, which Gaussian vectors never do. The targets of the loss are then random
    tokens, unrelated to the inputs; at initialization the loss only has to supply a gradient.
    Three differences remain, and we name them: our attention keeps its output projection
    $W^O$ (their simplified attention $\frac{1}{n}\sum_j x_j W^{V}$ has none), the output layer
    is its own Xavier matrix rather than the tied word embedding $W^{emb}$, and the stack is an
    encoder only (their experiments use a 6-layer encoder with a 6-layer decoder).

    Their measurements in §3.4 are not of that simplified model but of the translation model of
    §3.2 at its usual initialization, so `setting='practical'` undoes the simplifications: 4 heads,
    $d_{ff} = 2d$ (their 512/1024), $W^Q, W^K$ Xavier-random at initialization, token embeddings
    and sinusoidal positions.
    """
    s = SETTINGS[setting]
    model = Transformer(vocab, seq_len, n_layers, d_model, n_heads=s['n_heads'],
                        d_ff=s['ffn_mult'] * d_model, norm_first=norm_first,
                        positions=s['positions'])
    for name, p in model.named_parameters():
        if p.dim() == 2 and 'emb' not in name:
            nn.init.xavier_normal_(p)
    # $W^Q = W^K = 0$: the first $2d$ rows of the stacked input projection
    if s['zero_qk']:
        with torch.no_grad():
            for block in model.blocks:
                block.self_attn.in_proj_weight[:2 * d_model].zero_()
    return model


@check_group
def _check_analysis_setting():
    r"""
    ## Xiong et al. §3.3's setting

    Single head, every matrix $d \times d$, $W^Q = W^K = 0$: attention is uniform, so every token
    of a sequence gets the same attention output.
    """

    torch.manual_seed(0)
    model = analysis_model(norm_first=False, n_layers=2, d_model=64)
    attn = model.blocks[0].self_attn
    out = attn(torch.randn(3, 16, 64))
    check('W^Q = W^K = 0: every token gets the same attention output',
          torch.allclose(out, out[:, :1].expand_as(out), atol=1e-6))
    ffn = model.blocks[0].ffn
    check('single head, W1 and W2 are d × d', attn.n_heads == 1 and
          ffn.linear1.weight.shape == ffn.linear2.weight.shape == (64, 64))
    std = torch.cat([b.ffn.linear2.weight.flatten() for b in model.blocks]).std().item()
    check('Xavier Gaussian: std of W2 ≈ sqrt(2 / (d + d)) = 0.125', abs(std - 0.125) < 0.01,
          f'{std:.4f}')


def ffn_grad_stats(model: Transformer, batches: int, batch: int, generator: torch.Generator,
                   vocab: int = 16, seq_len: int = 16, gaussian_inputs: bool = False) -> dict:
    r"""
    ## The statistic of Xiong et al. §3.4

    For **one fixed initialization**, the gradient $g_k = \partial \mathcal{L}_k / \partial W^{2,l}$
    of every layer $l$ on each of `batches` mini-batches $k$. The paper's "scale of the expected
    gradient" averages each element of the gradient over the mini-batches first, and then takes the
    Frobenius norm:
    $\big\lVert \frac{1}{K}\sum_k g_k \big\rVert_F$ (`expected`). Theorem 1 bounds the gradient
    itself, so we also keep the mean of the per-batch norms, $\frac{1}{K}\sum_k \lVert g_k \rVert_F$
    (`per_batch`). The task is the [reversal task](experiment.md): random tokens, and the target at
    position $t$ is the input token at $T - 1 - t$; with `gaussian_inputs` the model sees Gaussian
    vectors instead of the tokens' embeddings.

    `hidden` is Lemma 2's quantity, $\mathbb{E}\lVert x \rVert_2^2 / d$ over tokens and batches:
    for Post-LN the input of each block's second LayerNorm ($x^{post,5}_l$ in their Table 1), for
    Pre-LN the input of each block, $x^{pre}_l$, and last the input of the final LayerNorm,
    $x^{pre}_{L+1}$.
    """
    norm_first = model.blocks[0].norm_first
    d = model.head.in_features
    # Where Lemma 2 looks: forward pre-hooks record the squared norm of what enters a module
    watched = ([b for b in model.blocks] + [model.norm_final]) if norm_first else \
        [b.norm2 for b in model.blocks]
    sums = [0.0] * len(watched)

    def recorder(i):
        def hook(module, args):
            sums[i] += args[0].detach().double().square().sum(-1).mean().item() / d
        return hook

    # What enters and leaves each $W^2$, to take each mini-batch's gradient apart below
    inputs, outputs = [], []

    def keep(module, args, out):
        inputs.append(args[0])
        out.retain_grad()
        outputs.append(out)

    handles = [m.register_forward_pre_hook(recorder(i)) for i, m in enumerate(watched)]
    handles += [b.ffn.linear2.register_forward_hook(keep) for b in model.blocks]
    #
    # All mini-batches in one pass: sequences never meet (LayerNorm is per token, attention stays
    # within a sequence), so the sum of the mini-batches' mean losses has, for the sequences of
    # mini-batch $k$, exactly the gradients of $\mathcal{L}_k$ alone
    tokens, embedded = [], []
    for _ in range(batches):
        tokens.append(torch.randint(vocab, (batch, seq_len), generator=generator))
        if gaussian_inputs:
            embedded.append(torch.randn(batch, seq_len, d, generator=generator))
    tokens = torch.cat(tokens)
    logits = model(tokens, torch.cat(embedded) if gaussian_inputs else None)
    losses = F.cross_entropy(logits.reshape(-1, vocab), tokens.flip(1).reshape(-1),
                             reduction='none')
    losses.view(batches, -1).mean(1).sum().backward()
    for h in handles:
        h.remove()
    # $g_k = \sum_{\text{tokens of } k} \delta^\top h$ for every layer: (batches, layers, d, d)
    g = torch.stack([torch.einsum('kni,knj->kij',
                                  out.grad.double().reshape(batches, -1, out.shape[-1]),
                                  h.detach().double().reshape(batches, -1, h.shape[-1]))
                     for h, out in zip(inputs, outputs)], dim=1)
    return {'expected': g.mean(0).flatten(1).norm(dim=1).tolist(),
            'per_batch': g.flatten(2).norm(dim=2).mean(0).tolist(),
            'hidden': sums}


# ![Per-layer expected gradient of W2 (6 layers) and the last layer's gradient against depth,
# Post-LN and Pre-LN, in the practical and analysis settings, with bands over twelve
# initializations](grad_norm.svg)
#
# *In both settings Post-LN's expected gradient grows toward the output layer and Pre-LN's falls,
# and the last layer's gradient is larger for Post-LN at every depth, by a factor that grows with
# depth* (lines: mean of the twelve initializations; bands: smallest to largest).

RESULTS = Path(__file__).resolve().parent / 'results' / 'grad_norms.json'
# The measurement: twelve initializations (§3.4 repeats theirs ten times), 32 mini-batches of 16
# sequences each, a 6-layer stack for the per-layer panel, and stacks of 2 to 14 layers for the
# depth panel (theirs go from 6-6 to 14-14)
MEASURE = dict(d_model=64, vocab=16, seq_len=16, batch=16, batches=32, seeds=list(range(12)),
               per_layer_depth=6, depths=[2, 4, 6, 8, 10, 12, 14])
ARRANGEMENTS = {'Post-LN': False, 'Pre-LN': True}


def measure_one(setting: str, norm_first: bool, n_layers: int, seed: int,
                c: dict = MEASURE) -> dict:
    # One initialization (seeded) and its own stream of batches (seeded), so any entry can be
    # re-run
    torch.manual_seed(seed)
    model = analysis_model(norm_first, n_layers, setting, c['d_model'], c['vocab'], c['seq_len'])
    generator = torch.Generator().manual_seed(10_000 + seed)
    return ffn_grad_stats(model, c['batches'], c['batch'], generator, c['vocab'], c['seq_len'],
                          SETTINGS[setting]['gaussian_inputs'])


def measure(c: dict = MEASURE) -> dict:
    """
    ## All of it, and the record the page draws from

    `depth[setting][arrangement][str(L)]` holds one entry per initialization; the
    `per_layer_depth` stack is the per-layer panel. `python -m labml_nn_norm.transformer --measure`
    writes it (about ten minutes on one core).
    """
    start = time.time()
    depth = {setting: {name: {str(n): [measure_one(setting, norm_first, n, s, c)
                                       for s in c['seeds']]
                              for n in c['depths']}
                       for name, norm_first in ARRANGEMENTS.items()}
             for setting in SETTINGS}
    return {**run_record('python -m labml_nn_norm.transformer --measure', start),
            'config': c, 'depth': depth}


def load_measurement(path: Path = RESULTS) -> dict:
    # The schema the page relies on; a missing key fails here rather than in a plot
    results = json.loads(path.read_text(encoding='utf-8'))
    for key in ('command', 'date', 'torch', 'config', 'depth'):
        if key not in results:
            raise KeyError(f'{path.name} has no {key!r}')
    return results


# **How a panel is read.** Each panel becomes one number with an interval. For the per-layer
# panels, 3(a) and 3(b), it is the slope of $\ln \lVert \mathbb{E} g \rVert$ against the layer
# index, fitted by least squares to the mean over the initializations: $+0.05$ means about 5% more
# per layer. For the depth panels, 3(c) and 3(d), it is the exponent $b$ in $g \propto L^b$, the
# slope of $\ln g$ against $\ln L$, from $L = 6$ (where the paper's panels start) to 14. The
# interval is a 95% bootstrap interval: the initializations are drawn again with replacement
# 4000 times, the layers of one stack together, each depth's stacks on their own. The verdict
# (`verdict()` below) is **about flat** when the whole interval keeps the fitted change across
# the range under 15%, **grows** or **decreases** when the whole interval is above or below zero,
# and **inconclusive** when it allows both. `_test()` checks that each verdict written on this
# page is the one the rule gives.

# How a trend is read, one rule for every panel and every sentence of the page that calls
# something growing, decreasing or flat
BOOTSTRAP = 4000  # resamples of the initializations
FLAT_CHANGE = 1.15  # "about flat": the fitted line changes by less than 15% across its range


def fitted_slope(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Least-squares slope of `y` (..., points) against `x` (points)
    xc = x - x.mean()
    return ((y - y.mean(-1, keepdim=True)) * xc).sum(-1) / xc.square().sum()


def resampled_means(logs: torch.Tensor, paired: bool, seed: int = 0) -> torch.Tensor:
    """
    `BOOTSTRAP` means of `logs` (initializations, points) over initializations drawn with
    replacement. The layers of one stack share an initialization, so they are drawn together
    (`paired`); each depth is a stack of its own, so each depth is drawn on its own.
    """
    generator = torch.Generator().manual_seed(seed)
    n, points = logs.shape
    if paired:
        return logs[torch.randint(n, (BOOTSTRAP, n), generator=generator)].mean(1)
    draw = torch.randint(n, (BOOTSTRAP, n, points), generator=generator)
    return logs[draw, torch.arange(points)].mean(1)


def interval(samples: torch.Tensor) -> tuple:
    # The 95% bootstrap interval: the 2.5% and 97.5% quantiles
    levels = torch.tensor([0.025, 0.975], dtype=samples.dtype)
    return tuple(torch.quantile(samples, levels).tolist())


def verdict(lo: float, hi: float, span: float) -> str:
    r"""
    ## The verdict rule

    A slope $b$ of $\ln g$ against $x$, with its 95% bootstrap interval $[lo, hi]$, over a range
    of $x$ of width `span`. "About flat" when the whole interval keeps the fitted change across
    the range under 15% ($|b| \cdot \text{span} < \ln 1.15$); "grows" or "decreases" when the whole
    interval is on one side of zero; otherwise the data allow both answers: "inconclusive".
    """
    margin = math.log(FLAT_CHANGE) / span
    if -margin < lo and hi < margin:
        return 'about flat'
    if lo > 0:
        return 'grows'
    if hi < 0:
        return 'decreases'
    return 'inconclusive'


def slope_statistic(x: torch.Tensor, logs: torch.Tensor, paired: bool) -> dict:
    # The slope of the mean of `logs` against `x`, its bootstrap interval, and the verdict
    lo, hi = interval(fitted_slope(x, resampled_means(logs, paired)))
    return {'slope': fitted_slope(x, logs.mean(0)).item(), 'lo': lo, 'hi': hi,
            'n': logs.shape[0], 'verdict': verdict(lo, hi, (x[-1] - x[0]).item())}


def log_grads(results: dict, setting: str, name: str, what: str) -> tuple:
    r"""
    $\ln$ of a gradient norm, (initializations, points), and the points: `'layer'`, the expected
    gradient of each layer of the `per_layer_depth` stack; `'depth'`, the last layer's per-batch
    gradient of each stack of `per_layer_depth` layers or more (the paper's depth panels start
    at 6-6); `'all depths'`, the same from the smallest stack up.
    """
    c, by_depth = results['config'], results['depth'][setting][name]
    if what == 'layer':
        runs = by_depth[str(c['per_layer_depth'])]
        logs = torch.tensor([r['expected'] for r in runs], dtype=torch.float64).log()
        return torch.arange(1, logs.shape[1] + 1, dtype=torch.float64), logs
    depths = [n for n in c['depths'] if what == 'all depths' or n >= c['per_layer_depth']]
    logs = torch.tensor([[r['per_batch'][-1] for r in by_depth[str(n)]] for n in depths],
                        dtype=torch.float64).log().T
    return torch.tensor(depths, dtype=torch.float64), logs


def panel_statistic(results: dict, panel: str, setting: str) -> dict:
    r"""
    The statistic behind one panel of Figure 3: for 3(a), 3(b) the slope of $\ln \lVert
    \mathbb{E} g \rVert$ per layer (the layers of one initialization resampled together), for
    3(c), 3(d) the exponent $b$ of $g \propto L^b$, the slope of $\ln g$ against $\ln L$.
    """
    _, name, kind, _, _ = PAPER[panel]
    x, logs = log_grads(results, setting, name, kind)
    return slope_statistic(x if kind == 'layer' else x.log(), logs, paired=kind == 'layer')


def describe_slope(stat: dict, kind: str) -> str:
    # One statistic as the page prints it
    what = 'slope of ln ‖E g‖ per layer' if kind == 'layer' else 'exponent of L'
    return (f"{what} {stat['slope']:+.3f}, 95% interval [{stat['lo']:+.3f}, {stat['hi']:+.3f}], "
            f"{stat['n']} initializations")


def summarize(results: dict) -> dict:
    """
    ## From the record to the panels

    For each setting and arrangement: the per-layer panel (mean, smallest and largest over the
    initializations of the expected-gradient norm of each layer's $W^2$ in the 6-layer stack), the
    top/bottom ratio of each initialization, the depth panel (the last layer's per-batch gradient
    norm for each depth, mean, smallest and largest), and Lemma 2's hidden-state norms.
    """
    c = results['config']
    out = {}
    for setting, by_name in results['depth'].items():
        for name, by_depth in by_name.items():
            runs = by_depth[str(c['per_layer_depth'])]
            E = torch.tensor([r['expected'] for r in runs], dtype=torch.float64)
            tops = torch.tensor([[r['per_batch'][-1] for r in by_depth[str(n)]]
                                 for n in c['depths']], dtype=torch.float64)
            out[setting, name] = {
                'layer_mean': E.mean(0).tolist(), 'layer_min': E.min(0).values.tolist(),
                'layer_max': E.max(0).values.tolist(), 'top_bottom': (E[:, -1] / E[:, 0]).tolist(),
                'depth_mean': tops.mean(1).tolist(), 'depth_min': tops.min(1).values.tolist(),
                'depth_max': tops.max(1).values.tolist(),
                'hidden': torch.tensor([r['hidden'] for r in runs]).mean(0).tolist(),
                'final_hidden': [sum(r['hidden'][-1] for r in by_depth[str(n)])
                                 / len(by_depth[str(n)]) for n in c['depths']]}
    return out


# Figure 3 of the paper, panel by panel, as §3.4 describes it: arrangement, what is plotted,
# the paper's trend in the verdict rule's words, and the paper's words
PAPER = {'3(a)': ('3(a)', 'Post-LN', 'layer', 'grows', 'grows with the layer index'),
         '3(b)': ('3(b)', 'Pre-LN', 'layer', 'about flat', 'almost the same for every layer'),
         '3(c)': ('3(c)', 'Post-LN', 'depth', 'about flat',
                  'stays about the same as the model deepens (about 1.6)'),
         '3(d)': ('3(d)', 'Pre-LN', 'depth', 'decreases', 'decreases as the model deepens')}


def comparison(ours: str, paper: str) -> str:
    # Only the practical setting is compared with the paper's measurement (see the text)
    if ours == 'inconclusive':
        return 'allows the paper\'s reading and others'
    return 'same as the paper' if ours == paper else 'differs from the paper'


def extra_statistics(results: dict) -> dict:
    r"""
    ## The other sentences of the summary, as statistics

    `gap`: the exponent of the ratio of Post-LN's last-layer gradient to Pre-LN's against depth
    (all depths; the two arrangements are different stacks, resampled independently), and the
    interval of that ratio at each depth. `shallow`: the exponent of Post-LN's last-layer gradient
    from the smallest stack to `per_layer_depth`. `product`: Lemma 3's check, the exponent of
    Pre-LN's last-layer gradient times $\sqrt{\mathbb{E}\lVert x^{pre}_{L+1} \rVert^2 / d}$.
    `top_below_bottom`: in how many initializations Pre-LN's top layer has a smaller expected
    gradient than its bottom layer.
    """
    c, out = results['config'], {}
    for setting in SETTINGS:
        x, post = log_grads(results, setting, 'Post-LN', 'all depths')
        _, pre = log_grads(results, setting, 'Pre-LN', 'all depths')
        boot = resampled_means(post, False, seed=1) - resampled_means(pre, False, seed=2)
        lo, hi = interval(fitted_slope(x.log(), boot))
        ratio = [tuple(math.exp(v) for v in interval(boot[:, j])) for j in range(len(x))]
        out[setting, 'gap'] = {
            'slope': fitted_slope(x.log(), post.mean(0) - pre.mean(0)).item(), 'lo': lo, 'hi': hi,
            'n': post.shape[0], 'verdict': verdict(lo, hi, (x[-1] / x[0]).log().item()),
            'ratio': (post.mean(0) - pre.mean(0)).exp().tolist(), 'ratio_interval': ratio}
        start = c['depths'].index(c['per_layer_depth']) + 1
        out[setting, 'shallow'] = slope_statistic(x[:start].log(), post[:, :start], paired=False)
        _, layers = log_grads(results, setting, 'Pre-LN', 'layer')
        out[setting, 'top_below_bottom'] = (int((layers[:, -1] < layers[:, 0]).sum()),
                                           layers.shape[0])
    by_depth = results['depth']['analysis']['Pre-LN']
    product = torch.tensor([[r['per_batch'][-1] * r['hidden'][-1] ** 0.5
                             for r in by_depth[str(n)]] for n in c['depths']],
                           dtype=torch.float64).log().T
    depths = torch.tensor(c['depths'], dtype=torch.float64)
    out['analysis', 'product'] = slope_statistic(depths.log(), product, paired=False)
    return out


# {{ reproduction_table }}
#
# What that says:
#
# * **Practical setting, against the paper.** Post-LN's expected gradient grows toward the output
#   (3(a)) and Pre-LN's last-layer gradient decreases as the stack deepens (3(d)), as in the
#   paper. Pre-LN's per-layer gradient is *not* flat (3(b)): it decreases toward the output, and
#   its top layer's is below its bottom layer's in each of the twelve initializations. Whether
#   Post-LN's last-layer gradient stays flat from 6 to 14 layers (3(c)) is inconclusive: the
#   interval holds flat and growing alike. Below 6 layers it grows (first row of the last table
#   on this page).
# * **Analysis setting, what the simplified model shows.** The same directions for 3(a), 3(b)
#   and 3(d), and Post-LN's last-layer gradient *grows* with depth (3(c)). Theorem 1 bounds that
#   gradient by a constant independent of $L$, up to a constant factor and with high probability;
#   growth over six to fourteen layers does not contradict such a bound, but it is not the flat
#   line the bound is often read as. Pre-LN's exponent stays above Theorem 1's $-1/2$ over the
#   whole interval.
# * **Pre-LN's per-layer gradient falling toward the output** is what later work reports for
#   large models: Li, Yin and Liu's Mix-LN paper finds that Pre-LN "leads to diminished gradient
#   norms in its deeper layers", in language models of 70M to 7B parameters (abstract). Theirs
#   are large language models, ours a small stack at initialization, so we take it as the same
#   direction, not as evidence of the same mechanism.
# * **Post-LN against Pre-LN**: the last layer's gradient is larger for Post-LN at every depth
#   (the whole 95% interval of the ratio is above 1), and the ratio grows with depth in both
#   settings:
#
# {{ gap_table }}

# What the page's prose says: each panel's verdict, and the other sentences' (checked against
# the record by the verdict rule in `_test()`)
STATED = {('3(a)', 'practical'): 'grows', ('3(a)', 'analysis'): 'grows',
          ('3(b)', 'practical'): 'decreases', ('3(b)', 'analysis'): 'decreases',
          ('3(c)', 'practical'): 'inconclusive', ('3(c)', 'analysis'): 'grows',
          ('3(d)', 'practical'): 'decreases', ('3(d)', 'analysis'): 'decreases',
          ('practical', 'gap'): 'grows', ('analysis', 'gap'): 'grows',
          ('practical', 'top_below_bottom'): 12, ('analysis', 'top_below_bottom'): 12,
          ('practical', 'shallow'): 'grows', ('analysis', 'product'): 'grows'}


@check_group
def _check_figure3(results: dict):
    """
    ## What the page says about Figure 3

    Each panel's verdict as `STATED` above must be what the verdict rule gives on the record, and
    so must the other sentences of the summary.
    """

    c = results['config']
    check('the record is what the text says: 12 initializations, 32 mini-batches of 16, '
          'depths 2 to 14, 6-layer per-layer stack',
          (len(c['seeds']), c['batches'], c['batch'], c['depths'][0], c['depths'][-1],
           c['per_layer_depth']) == (12, 32, 16, 2, 14, 6))
    for panel, (_, name, kind, _, _) in PAPER.items():
        for setting in SETTINGS:
            stat = panel_statistic(results, panel, setting)
            stated = STATED[panel, setting]
            check(f'{panel} {name}, {setting}: {stated}', stat['verdict'] == stated,
                  describe_slope(stat, kind))
    #
    # The other sentences of the summary
    extra = extra_statistics(results)
    for setting in SETTINGS:
        gap = extra[setting, 'gap']
        check(f"{setting}: Post-LN's last-layer gradient / Pre-LN's, against depth: "
              f"{STATED[setting, 'gap']}", gap['verdict'] == STATED[setting, 'gap'],
              f"exponent {gap['slope']:+.3f} [{gap['lo']:+.3f}, {gap['hi']:+.3f}]")
        check(f'{setting}: Post-LN / Pre-LN above 1 at every depth (whole 95% interval)',
              all(lo > 1 for lo, _ in gap['ratio_interval']),
              ' '.join(f'{lo:.2f}' for lo, _ in gap['ratio_interval']))
        below, n = extra[setting, 'top_below_bottom']
        check(f"{setting}: Pre-LN's top layer below its bottom layer in "
              f"{STATED[setting, 'top_below_bottom']} of {n} initializations",
              below == STATED[setting, 'top_below_bottom'], str(below))
    shallow = extra['practical', 'shallow']
    check(f"practical, Post-LN, last layer from L = {results['config']['depths'][0]} to "
          f"{results['config']['per_layer_depth']}: {STATED['practical', 'shallow']}",
          shallow['verdict'] == STATED['practical', 'shallow'], describe_slope(shallow, 'depth'))
    pre = panel_statistic(results, '3(d)', 'analysis')
    check('analysis, Pre-LN: the exponent of L is above -1/2 (whole 95% interval)',
          pre['lo'] > -0.5, describe_slope(pre, 'depth'))
    product = extra['analysis', 'product']
    check(f"analysis, Pre-LN: gradient x sqrt(E|x|^2/d) against depth: "
          f"{STATED['analysis', 'product']}", product['verdict'] == STATED['analysis', 'product'],
          describe_slope(product, 'depth'))


# Expected gradient of each layer's $W^2$, 6 layers (mean of the twelve initializations, and the
# ratio of the top layer to the bottom layer for each initialization):
#
# {{ layer_table }}
#
# The last layer's per-batch gradient norm against depth (mean, and smallest–largest):
#
# {{ depth_table }}
#
# **Lemma 2, measured** (analysis setting, 6 layers): $\mathbb{E}\lVert x \rVert^2 / d$ of the
# input of each Post-LN block's second LayerNorm, $x^{post,5}_l$ in the paper's Table 1, and of
# Pre-LN's residual stream $x^{pre}_k$ after $k$ blocks ($k = 0$ is the Gaussian input), with the
# paper's value or bounds in brackets:
#
# {{ lemma2_table }}
#
# Both hold: Post-LN's within 0.1 of 3/2 at every layer, Pre-LN's within the bounds (5% slack)
# at every $k$. Lemma 3's consequence for Pre-LN is that the last-layer gradient should shrink
# like $1 / \sqrt{\mathbb{E}\lVert x^{pre}_{L+1} \rVert^2 / d}$; if that were all, the product in
# the second row below would stay constant. It does not: the final LayerNorm's input grows as
# Lemma 2 says, but the product grows with depth (last row of the next table), so the gradient
# shrinks more slowly than that scaling alone predicts (analysis setting):
#
# {{ final_ln_table }}

@check_group
def _check_lemma2(results: dict):
    r"""
    ## Lemma 2 on the record

    $\mathbb{E}\lVert x \rVert^2 / d$ in the analysis setting, against the paper's value
    (Post-LN) and bounds (Pre-LN).
    """

    summary = summarize(results)
    post, pre = summary['analysis', 'Post-LN']['hidden'], summary['analysis', 'Pre-LN']['hidden']
    check('Post-LN: every layer within 0.1 of 3/2', all(abs(v - 1.5) < 0.1 for v in post),
          ' '.join(f'{v:.2f}' for v in post))
    check("Pre-LN: x_k between (1 + k/2) and (1 + 3k/2) for every k, within 5%",
          all(0.95 * (1 + k / 2) <= v <= 1.05 * (1 + 3 * k / 2) for k, v in enumerate(pre)),
          ' '.join(f'{v:.2f}' for v in pre))
    final = summary['analysis', 'Pre-LN']['final_hidden']
    check('Pre-LN: the input of the final LayerNorm grows with depth (every step)',
          all(b > a for a, b in zip(final, final[1:])), ' '.join(f'{v:.2f}' for v in final))


# The statistics behind the sentences above that are not panels of Figure 3, read with the same
# rule (exponent of $L$ over all depths from 2 to 14 for the product):
#
# {{ other_table }}
#
# {{ measurement_meta }}
#
# The [training comparison](experiment.md) then trains both on the reversal task, with and
# without warm-up.

def _artifacts():
    """
    ## The figures and tables

    Drawn at build time from `results/grad_norms.json`, written by
    `python -m labml_nn_norm.transformer --measure`.
    """
    import matplotlib.pyplot as plt

    results = load_measurement()
    c, summary = results['config'], summarize(results)
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.6), sharex='col')
    for row, setting in enumerate(('practical', 'analysis')):
        for name, marker in (('Post-LN', 'o'), ('Pre-LN', 's')):
            s = summary[setting, name]
            layers = range(1, len(s['layer_mean']) + 1)
            line, = axes[row, 0].plot(layers, s['layer_mean'], marker=marker, label=name)
            axes[row, 0].fill_between(layers, s['layer_min'], s['layer_max'],
                                      color=line.get_color(), alpha=0.15)
            axes[row, 1].plot(c['depths'], s['depth_mean'], marker=marker, label=name)
            axes[row, 1].fill_between(c['depths'], s['depth_min'], s['depth_max'],
                                      color=line.get_color(), alpha=0.15)
        axes[row, 0].set_ylabel(f'{setting} setting\n‖∂L/∂W2‖ at initialization', fontsize=9)
        for ax in axes[row]:
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
        axes[row, 1].set_xticks(c['depths'])
    axes[0, 0].set_title(f"each layer's expected gradient, {c['per_layer_depth']} layers\n"
                         "(as Fig. 3(a), 3(b))", fontsize=9)
    axes[0, 1].set_title('last layer, per-batch gradient, vs depth\n(as Fig. 3(c), 3(d))',
                         fontsize=9)
    axes[1, 0].set_xlabel('layer l (1 = next to the input)')
    axes[1, 1].set_xlabel('number of layers L')
    axes[0, 1].legend(fontsize=8)
    fig.suptitle(f"Mean of {len(c['seeds'])} initializations; bands: smallest to largest",
                 fontsize=9)
    fig.tight_layout()
    #
    # The numbers behind the panels, as Markdown tables for the page
    L = c['per_layer_depth']
    layer_rows = ['| setting, arrangement | '
                  + ' | '.join(f'layer {layer}' for layer in range(1, L + 1))
                  + ' | top / bottom, each initialization |',
                  '| --- ' * (L + 2) + '|']
    depth_rows = ['| setting, arrangement | ' + ' | '.join(f'L = {n}' for n in c['depths']) + ' |',
                  '| --- ' * (len(c['depths']) + 1) + '|']
    for (setting, name), s in summary.items():
        layer_means = ' | '.join(f'{v:.2f}' for v in s['layer_mean'])
        top_bottom = ' '.join(f'{r:.2f}' for r in s['top_bottom'])
        layer_rows.append(f'| {setting}, {name} | {layer_means} | {top_bottom} |')
        spans = zip(s['depth_mean'], s['depth_min'], s['depth_max'])
        depth_cells = ' | '.join(f'{m:.2f} ({lo:.2f}–{hi:.2f})' for m, lo, hi in spans)
        depth_rows.append(f'| {setting}, {name} | {depth_cells} |')
    #
    # Figure 3, panel by panel: what §3.4 says, and each setting's verdict and statistic; only the
    # practical setting is set against the paper
    repro = ['| Figure 3 | paper (§3.4) | practical setting '
             '| analysis setting (simplified model) |',
             '| --- | --- | --- | --- |']
    for panel, (_, name, kind, paper_trend, paper_text) in PAPER.items():
        practical, analysis = (panel_statistic(results, panel, setting)
                               for setting in ('practical', 'analysis'))
        repro.append(f"| {panel}, {name} | {paper_text} | **{practical['verdict']}**, "
                     f"{comparison(practical['verdict'], paper_trend)} "
                     f"({describe_slope(practical, kind)}) | **{analysis['verdict']}** "
                     f"({describe_slope(analysis, kind)}) |")
    extra = extra_statistics(results)
    gap_rows = ['| setting | ' + ' | '.join(f'L = {n}' for n in c['depths'])
                + ' | exponent of L, 95% interval | verdict |',
                '| --- ' * (len(c['depths']) + 3) + '|']
    for setting in ('practical', 'analysis'):
        g = extra[setting, 'gap']
        cells = ' | '.join(f'{r:.2f} [{lo:.2f}, {hi:.2f}]'
                           for r, (lo, hi) in zip(g['ratio'], g['ratio_interval']))
        gap_rows.append(f"| {setting} | {cells} | {g['slope']:+.3f} [{g['lo']:+.3f}, "
                        f"{g['hi']:+.3f}] | **{g['verdict']}** |")
    other = ['| statement | statistic | verdict |', '| --- | --- | --- |']
    for setting in ('practical', 'analysis'):
        x = extra[setting, 'shallow']
        other.append(f"| {setting}, Post-LN, last layer from L = {c['depths'][0]} to "
                     f"{c['per_layer_depth']} | {describe_slope(x, 'depth')} | "
                     f"**{x['verdict']}** |")
    x = extra['analysis', 'product']
    other.append(f"| analysis, Pre-LN, last layer times the final LayerNorm's input scale | "
                 f"{describe_slope(x, 'depth')} | **{x['verdict']}** |")
    #
    # Lemma 2 in the analysis setting: $\mathbb{E}\lVert x \rVert^2 / d$ against the paper's values
    post, pre = summary['analysis', 'Post-LN'], summary['analysis', 'Pre-LN']
    post_cells = ' | '.join(f'{v:.2f}' for v in post['hidden'])
    pre_cells = ' | '.join(f'{v:.2f} ({1 + k / 2:g}–{1 + 3 * k / 2:g})'
                           for k, v in enumerate(pre['hidden']))
    blocks = ' | '.join(f'k = {k}' for k in range(L + 1))
    lemma = [f'| quantity, after k blocks | {blocks} |', '| --- ' * (L + 2) + '|',
             f'| Post-LN, $x^{{post,5}}_l$ (Lemma 2: 1.5) | – | {post_cells} |',
             f'| Pre-LN, $x^{{pre}}_k$ (Lemma 2: between $1 + k/2$ and $1 + 3k/2$) | {pre_cells} |']
    final_hidden = ' | '.join(f'{v:.2f}' for v in pre['final_hidden'])
    products = ' | '.join(f'{g * h ** 0.5:.2f}'
                          for g, h in zip(pre['depth_mean'], pre['final_hidden']))
    final = ['| L | ' + ' | '.join(str(n) for n in c['depths']) + ' |',
             '| --- ' * (len(c['depths']) + 1) + '|',
             '| $\\mathbb{E}\\lVert x^{pre}_{L+1} \\rVert^2 / d$, input of the final LayerNorm | '
             + final_hidden + ' |',
             '| last-layer gradient $\\times \\sqrt{\\mathbb{E}\\lVert x \\rVert^2 / d}$ | '
             + products + ' |']
    meta = (f"Measured on {results['date'][:10]} with PyTorch {results['torch']}, "
            f"{results['threads']} thread(s), in {results['wall_time_s']} s: "
            f"`{results['command']}`.")
    return {'grad_norm': fig, 'layer_table': '\n'.join(layer_rows),
            'gap_table': '\n'.join(gap_rows), 'other_table': '\n'.join(other),
            'block_post': figure_block(norm_first=False),
            'block_pre': figure_block(norm_first=True),
            'depth_table': '\n'.join(depth_rows), 'reproduction_table': '\n'.join(repro),
            'lemma2_table': '\n'.join(lemma), 'final_ln_table': '\n'.join(final),
            'measurement_meta': meta}


@check_group(fold=True)
def _check_attention():
    """
    ## Attention against `F.scaled_dot_product_attention`, and the causal mask

    `SelfAttention` with and without the causal mask, against
    `F.scaled_dot_product_attention` on the same projections.
    """

    for causal in (False, True):
        attn = SelfAttention(32, n_heads=4, causal=causal)
        nn.init.normal_(attn.in_proj_weight, std=0.3)
        x = torch.randn(3, 7, 32)
        B, T, C = x.shape
        q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).split(C, dim=2)
        q, k, v = (t.view(B, T, 4, C // 4).transpose(1, 2) for t in (q, k, v))
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        ref = ref.transpose(1, 2).reshape(B, T, C)
        check_close(f'causal={causal}', attn(x), attn.out_proj(ref))
    #
    # Causal: token $t$'s output does not change when later tokens change
    attn = SelfAttention(32, n_heads=4, causal=True)
    x2 = x.clone()
    x2[:, 4:] = torch.randn(3, 3, 32)
    check('causal: tokens 0..3 unchanged when tokens 4..6 change',
          torch.allclose(attn(x)[:, :4], attn(x2)[:, :4]))


# `torch.nn.TransformerEncoderLayer`'s parameter names, and ours: the attention's are the same
_TORCH_TO_OURS = {name: name for name in ('self_attn.in_proj_weight', 'self_attn.in_proj_bias',
                                          'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
                                          'norm1.weight', 'norm1.bias',
                                          'norm2.weight', 'norm2.bias')}
_TORCH_TO_OURS.update({f'{linear}.{p}': f'ffn.{linear}.{p}'
                       for linear in ('linear1', 'linear2') for p in ('weight', 'bias')})


@check_group(fold=True)
def _check_blocks():
    """
    ## Both arrangements against `torch.nn.TransformerEncoderLayer`

    Same weights, no dropout: `norm_first=False` is Post-LN, `norm_first=True` is Pre-LN.
    """

    for norm_first in (False, True):
        ref = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, batch_first=True,
                                         norm_first=norm_first)
        ours = Block(32, 4, 64, norm_first=norm_first)
        with torch.no_grad():
            for p in ref.parameters():
                p.normal_(std=0.2)
        ours.load_state_dict({_TORCH_TO_OURS[k]: v for k, v in ref.state_dict().items()})
        x = torch.randn(2, 9, 32) * 2 + 1
        # (the reference in training mode: its inference fast path is a different kernel)
        arrangement = 'Pre' if norm_first else 'Post'
        check_close(f'{arrangement}-LN block == TransformerEncoderLayer(norm_first={norm_first})',
                    ours(x), ref.train()(x))


@check_group(fold=True)
def _check_figures():
    """
    ## The block diagrams are drawn from the code

    A change of the drawing function's input changes the drawing, and what it counts is what the
    arrangement does: two LayerNorms on Post-LN's residual path, none on Pre-LN's.
    """

    post, pre = figure_block(norm_first=False), figure_block(norm_first=True)
    check('figure_block(norm_first=False) != figure_block(norm_first=True)', post != pre)
    check('LayerNorms on the residual path: Post-LN 2, Pre-LN 0',
          (norms_on_residual_path(block_steps(False)), norms_on_residual_path(block_steps(True)))
          == (2, 0))
    check('each drawing has role="img", an aria-label and a <title>',
          all('role="img"' in f and 'aria-label="' in f and '<title>' in f for f in (post, pre)))


@check_group(fold=True)
def _check_rerun(results: dict):
    """
    ## One initialization of the record, measured again

    One initialization of the record, re-run: the first seed of the cheapest stack, the smallest
    depth of the record, in both settings and both arrangements (`measure_one()` runs the same
    code at every depth).
    """

    c = results['config']
    depth = min(c['depths'])
    for setting in SETTINGS:
        for name, norm_first in ARRANGEMENTS.items():
            again = measure_one(setting, norm_first, depth, c['seeds'][0], c)
            saved = results['depth'][setting][name][str(depth)][0]
            check_close(f'{setting}, {name}, {depth} layers: ‖E g‖ of every layer == record',
                        torch.tensor(again['expected']), torch.tensor(saved['expected']),
                        rtol=1e-4, atol=1e-6)


# ## Exercises
#
# 1. **A LayerNorm after Post-LN's last block.** Pre-LN needs `norm_final`; Post-LN has none.
#    Add one anyway: how far is $\mathrm{LN}(\mathrm{LN}(x))$ from $\mathrm{LN}(x)$ with
#    $\gamma = 1$, $\beta = 0$, and what sets the difference?
# 2. **Statistics shared across tokens.** Normalize a $(B, T, C)$ activation with one mean and
#    variance per channel over all $B \cdot T$ tokens, as BatchNorm would, and change the other
#    tokens of a sequence: does token 0's output change? Do the same with `LayerNorm(C)`.
# 3. **Lemma 2's 3/2 by hand.** A LayerNorm's output $x$ has $\lVert x \rVert^2 = d$. With
#    $W^1, W^2$ of $d \times d$ drawn from $\mathcal{N}(0, 1/d)$ (Gaussian Xavier), show that
#    $\mathbb{E}\lVert x + W^2 \mathrm{ReLU}(W^1 x) \rVert^2 / d = 3/2$, and measure it for
#    $d = 512$.


@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: a LayerNorm after Post-LN's last block

    $\mathrm{LN}(x)$ already has mean 0 and variance $\sigma^2 / (\sigma^2 + \epsilon)$, so a
    second LayerNorm only divides by $\sqrt{\sigma'^2 + \epsilon}$ once more: the two differ by
    about $\epsilon / 2$, relative, and are equal when $\epsilon = 0$.
    """
    ln = LayerNorm(64)
    x = torch.randn(4, 16, 64) * 3 + 1
    once = ln(x)
    twice = ln(once)
    gap = (twice - once).abs().max().item()
    check('eps = 1e-5: LN(LN(x)) differs from LN(x) by less than 1e-4', gap < 1e-4,
          f'max |LN(LN(x)) - LN(x)| = {gap:.1e}')
    no_eps = LayerNorm(64, eps=0.0)
    check_close('eps = 0: LN(LN(x)) == LN(x)', no_eps(no_eps(x)), no_eps(x))


@check_group(fold=True)
def _exercise_2():
    r"""
    ## Solution 2: statistics shared across tokens

    With one mean and variance per channel over all $B \cdot T$ tokens, every token's output
    depends on every other token of the batch: changing tokens 1 to 4 moves token 0's output.
    `LayerNorm(C)` leaves it unchanged, bit for bit.
    """
    x = torch.randn(2, 5, 16)
    other = x.clone()
    other[:, 1:] = torch.randn(2, 4, 16) * 10 + 3

    def per_channel(h: torch.Tensor) -> torch.Tensor:
        # Statistics over batch and tokens: (1, 1, C)
        mean = h.mean(dim=(0, 1), keepdim=True)
        var = h.var(dim=(0, 1), unbiased=False, keepdim=True)
        return (h - mean) / torch.sqrt(var + 1e-5)
    moved = (per_channel(x)[:, 0] - per_channel(other)[:, 0]).abs().max().item()
    check('per-channel statistics over (B, T): token 0 moves when tokens 1..4 change',
          moved > 0.1, f'max change {moved:.2f}')
    ln = LayerNorm(16)
    check('LayerNorm(16): token 0 unchanged', torch.equal(ln(x)[:, 0], ln(other)[:, 0]))


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: Lemma 2's 3/2 by hand

    Each element of $W^1 x$ is a sum of $d$ terms of variance $x_j^2 / d$: variance
    $\lVert x \rVert^2 / d = 1$. Half of a symmetric variable's second moment survives the ReLU,
    so each element of $h = \mathrm{ReLU}(W^1 x)$ has $\mathbb{E} h_i^2 = 1/2$, and each element of
    $W^2 h$ has variance $\sum_i \mathbb{E} h_i^2 / d = 1/2$. $x$ and $W^2 h$ are uncorrelated
    ($W^2$ has mean 0), so $\mathbb{E}\lVert x + W^2 h \rVert^2 / d = 1 + 1/2$.
    """
    d, samples = 512, 64
    g = torch.Generator().manual_seed(0)
    x = F.layer_norm(torch.randn(samples, d, generator=g), (d,))  # (samples, d), ‖x‖² ≈ d
    w1 = torch.randn(samples, d, d, generator=g) / math.sqrt(d)  # a fresh W¹ per sample
    w2 = torch.randn(samples, d, d, generator=g) / math.sqrt(d)
    h = torch.relu(torch.einsum('sij,sj->si', w1, x))  # (samples, d)
    out = x + torch.einsum('sij,sj->si', w2, h)
    ratio = (out.square().sum(-1) / d).mean().item()
    check(f'E‖x + W² ReLU(W¹ x)‖² / d within 0.05 of 3/2 ({samples} draws, d = {d})',
          abs(ratio - 1.5) < 0.05, f'{ratio:.3f}')


def _test():
    """
    ## Run all the checks

    The last three groups read the saved measurement, `results/grad_norms.json`.
    """
    torch.manual_seed(0)
    _check_per_token()
    _check_attention()
    _check_blocks()
    _check_residual_stream()
    _check_analysis_setting()
    _check_figures()
    results = load_measurement()
    _check_rerun(results)
    _check_lemma2(results)
    _check_figure3(results)
    _exercise_1()
    _exercise_2()
    _exercise_3()


def _main():
    # `--measure`: the full measurement (minutes), written to results/; otherwise the checks
    if '--measure' not in sys.argv[1:]:
        _test()
        return
    torch.set_num_threads(1)
    results = measure()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + '\n', encoding='utf-8')
    print(f'wrote {RESULTS.name}: {results["wall_time_s"]} s')


# ## Sources
#
# * Xiong, Yang, He, Zheng, Zheng, Xing, Zhang, Lan, Wang, Liu,
#   [On Layer Normalization in the Transformer Architecture](https://arxiv.org/abs/2002.04745),
#   ICML 2020: §3.3 (the simplified setting: single head, $d \times d$ matrices,
#   $W^Q = W^K = 0$, Gaussian Xavier, Gaussian inputs; Theorem 1, a high-probability bound; Lemmas 2
#   and 3 and the "normalized by $\sqrt{L}$" idea of the proof), §3.4 (ten seeds; the expected
#   gradient, Frobenius norm of the per-element mean over mini-batches; Figure 3 (a)-(d) as
#   described in its text; "we hypothesize that the gradient scale is one of the reasons"), §4.2
#   (RAdam trains Post-LN without warm-up), appendix A.1 (the 6-6 model: 512, 1024, 4 heads).
# * Li, Yin, Liu, [Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN and
#   Post-LN](https://arxiv.org/abs/2412.13795), 2024, abstract (v2): Pre-LN "leads to diminished
#   gradient norms in its deeper layers", Post-LN "suffers from vanishing gradients in earlier
#   layers"; models of 70M to 7B parameters. Only the abstract was read for this page.
# * Vaswani et al., [Attention Is All You Need](https://arxiv.org/abs/1706.03762), 2017, §3.1: the
#   output of each sub-layer is LayerNorm(x + Sublayer(x)); §3.3 the FFN; §3.5 sinusoidal positions.
# * GPT-2's code, [`src/model.py`](https://github.com/openai/gpt-2/blob/9b63575ef42771a015060c964af2c3da4cf7c8ab/src/model.py#L123-L130):
#   `block` normalizes the input of each sub-layer (`ln_1`, `ln_2`), and
#   [line 167](https://github.com/openai/gpt-2/blob/9b63575ef42771a015060c964af2c3da4cf7c8ab/src/model.py#L167)
#   adds the final `ln_f`.
# * PyTorch 2.13.0, [`torch/nn/modules/transformer.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/transformer.py#L940-L954):
#   `TransformerEncoderLayer.forward`, the two arrangements behind `norm_first`, which `_test()`
#   compares our blocks with.
