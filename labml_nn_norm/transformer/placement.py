r"""
---
title: "Where the norm goes: DeepNorm, Sandwich/Peri-LN and QK-norm"
nav: Where the norm goes
summary: Three more places for the LayerNorm of a Transformer block, DeepNorm, Peri-LN (Sandwich-LN)
  and QK-norm, as drop-in blocks, each read from its source; activation and gradient norms per
  layer measured at initialization and after training, over several seeds, with verdicts.
section: LayerNorm in the Transformer
order: 22.5
---

# Where the norm goes: DeepNorm, Sandwich/Peri-LN and QK-norm

[Add & norm](index.md) puts the LayerNorm of a block in one of two places: after the residual
sum (Post-LN) or before the sub-layer (Pre-LN), and [the training comparison](experiment.md)
trains both. Later work moved it again. This page builds three of those placements as blocks
with the constructor of the site's `Block` (`d_model, n_heads, d_ff, ...`), so that any of them
can be dropped into a stack, and measures what each does to the activations and the gradients of
a stack of 8 blocks. For one sub-layer $F$ (attention or FFN):

| block | one sub-layer | from |
| --- | --- | --- |
| Post-LN | $\mathrm{LN}(x + F(x))$ | Vaswani et al., 2017 |
| Pre-LN | $x + F(\mathrm{LN}(x))$ | GPT-2's code |
| DeepNorm | $\mathrm{LN}(\alpha x + F(x))$, some weights times $\beta$ | Wang et al., 2022 |
| Peri-LN | $x + \mathrm{LN}_{out}(F(\mathrm{LN}_{in}(x)))$ | Kim et al., 2025 |
| QK-norm | Pre-LN, scores $\mathrm{LN}(q) \cdot \mathrm{LN}(k) / \sqrt{d_k}$ | ViT-22B, 2023 |

### DeepNorm

[DeepNet](https://arxiv.org/abs/2203.00555) (Wang, Ma, Dong, Huang, Zhang and Wei, 2022) keeps
Post-LN's normalized residual sum but up-weights the residual by a constant $\alpha > 1$, and
scales some weights down by $\beta < 1$ at initialization:

$$x_{l+1} = \mathrm{LN}\big(\alpha x_l + G_l(x_l)\big)$$

The authors' library, torchscale, introduces it as "DeepNorm to improve the training stability of
Post-LayerNorm Transformers" (its README). We could not read the body of the paper, so the
constants below are from the authors' code, not from the paper's table: for an encoder of $N$
layers, `EncoderLayer` sets $\alpha = (2N)^{1/4}$, and `Encoder` divides the weights of the FFN's
two matrices, the value projection $W^V$ and the output projection $W^O$ by $(8N)^{1/4}$ after
their Xavier initialization, that is $\beta = (8N)^{-1/4}$. Setting `deepnorm=True` also turns
Pre-LN off (`encoder_normalize_before = False`). The queries' and keys' matrices are not scaled.

### Peri-LN, or Sandwich-LN

[Peri-LN](https://arxiv.org/abs/2502.02732) (Kim et al., ICML 2025) normalizes each sub-layer's
input, as Pre-LN does, *and its output*, before it is added to the residual stream:

$$x_{l+1} = x_l + \mathrm{LN}_{out}\Big(F\big(\mathrm{LN}_{in}(x_l)\big)\Big)$$

Its abstract (in the paper's second version) says that "several open-source models have recently
begun silently adopting a third strategy without much explanation", which places the
normalization "peripherally around sublayers", and that Pre-LN and Post-LN "are prone to
vanishing gradients and 'massive activations'". Gemma 2's code is one such model: RMSNorms before
and after attention and before and after the FFN, each output norm applied before the residual
sum. [CogView](https://arxiv.org/abs/2105.13290) (Ding et al., 2021) used the same arrangement
under the name Sandwich-LN; we have not read that paper and cite it only for the name. OLMo 2's
code (`norm_after: true`) keeps only the output norm, $x + \mathrm{LN}(F(x))$, a fourth placement
we do not measure here.

### QK-norm

[ViT-22B](https://arxiv.org/abs/2302.05442) (Dehghani et al., 2023) normalizes the queries and keys
with a LayerNorm before their dot product:

$$\mathrm{softmax}\Big(\frac{\mathrm{LN}(q_i) \cdot \mathrm{LN}(k_j)}{\sqrt{d_k}}\Big)$$

We read its abstract, which presents "a recipe for highly efficient and stable training" of the
22B model, not its body. Why the norm is there we take from a later paper's abstract
([arXiv 2410.16682](https://arxiv.org/abs/2410.16682), 2024): "One of the sources of training
instability is the growth of logits in attention layers", citing Dehghani et al. With $\gamma = 1$
the normalized $q$ and $k$ have length $\sqrt{d_k}$, so no score can exceed $\sqrt{d_k}$ in size at
initialization; later the norms' weights $\gamma$ can grow. Open models use it: OLMo 2's code
applies a norm to all queries and to all keys (`attention_layer_norm: true`), Gemma 3's an RMSNorm
of each head's $d_k$ channels. Ours is a LayerNorm over each head's $d_k$ channels, one $\gamma$
shared by the heads, on a Pre-LN block.

### Measured: activations and gradients per layer

Each block in a stack of 8 on the [reversal task](experiment.md) (reverse 16 random tokens from
a vocabulary of 16), 64 channels, 4 heads, $d_{ff} = 128$, Adam at a constant $10^{-3}$ without
warm-up, batches of 32, 300 steps; smaller than the paper's models so that all runs fit in about
ten minutes of one CPU core. At initialization and again after training, one forward and backward
pass on a fixed probe batch of 64 sequences records, per block $l$: the RMS of its output,
$\lVert x_l \rVert / \sqrt{d}$ averaged over tokens (**activation**), the Frobenius norm of the
gradient of its FFN's $W^2$, the matrix of [Xiong et al.'s measurement](index.md)
(**gradient**), and the largest attention score $|q \cdot k| / \sqrt{d_k}$. The same seed gives
every block the same batches. Lines are the median over seeds, bands span the smallest to the
largest.

![Activation RMS and the gradient norm of W2 per layer, at initialization and after training, for
Post-LN, Pre-LN, DeepNorm, Peri-LN and QK-norm](placement.svg)

**How a trend is read** (`verdict()`, the rule of [Add & norm](index.md)). For each seed, the
least-squares slope $b$ of $\ln(\text{value})$ against the layer index; the statistic is the mean
of $b$ over seeds, and its
95% interval the 2.5% and 97.5% quantiles of that mean over 4000 resamples of the seeds. The
verdict is "about flat" when the whole interval keeps the change across the 8 layers under 15%
($|b| \cdot 7 < \ln 1.15$), "grows" or "decreases" when the whole interval is on one side of 0,
and "inconclusive" otherwise. A slope is a summary: after training, Pre-LN's and Peri-LN's
activations rise and then fall again before the last layer (the figure), and their verdict says
only on which side of 0 the fitted slope lies.

{{ verdict_table }}

The largest attention score, and the loss:

{{ logit_table }}

What the table says, each sentence checked against the saved record by `_test()`:

* **Activations.** Post-LN and DeepNorm end every block in a LayerNorm: their activations are
  about flat, at initialization and after training. Pre-LN's residual stream grows with depth,
  at initialization and after training, and so does that of QK-norm, a Pre-LN block. Peri-LN's
  grows too, at initialization and after training: before training, each block adds two outputs
  normalized to an RMS of 1, since $\gamma = 1$.
* **Gradients at initialization.** Post-LN's is inconclusive: its interval allows both a growth
  toward the output, as in Xiong et al.'s Figure 3(a), and a flat profile. DeepNorm's is about
  flat. Pre-LN's, Peri-LN's and QK-norm's decrease toward the output, as Pre-LN's did on the
  [Add & norm](index.md) page.
* **Gradients after training.** Post-LN's grows toward the output; the other four decrease. But
  Post-LN is the only block that has not learned the task in 300 steps without warm-up: its loss
  over the last 50 steps is above 1.0 in all 6 seeds, the other four's below 1.0 in all 6 seeds,
  so its profile is that of a model that has not learned yet.
* **Loss.** DeepNorm's loss over the last 50 steps is the lowest of the five in all 6 seeds.
* **Attention scores.** With QK-norm the largest score stays below $\sqrt{d_k} = 4$ at
  initialization in all 6 seeds, and its median after training is the smallest of the five;
  Pre-LN's and DeepNorm's grow the most.

This is one toy task at one depth and one learning rate: it shows what each placement does to
the norms, not which one trains large models better, which is what the papers measured.

{{ measurement_meta }}
"""

import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import nn

from labml_nn_norm._check import check_group
from labml_nn_norm._record import run_record
from labml_nn_norm.layer_norm import LayerNorm
from labml_nn_norm.transformer import FeedForward, SelfAttention, verdict

RESULTS = Path(__file__).resolve().parent / 'results' / 'placement.json'


class Attention(SelfAttention):
    r"""
    ## Self-attention, with or without QK-norm

    The site's [`SelfAttention`](index.md) (its parameters, in `torch.nn.MultiheadAttention`'s
    layout), with `qk_norm=True` adding a LayerNorm over each head's $d_k$ channels for the queries
    (`q_norm`) and one for the keys (`k_norm`). `logit_max` keeps the largest $|q \cdot k| /
    \sqrt{d_k}$ of the last call: the quantity QK-norm is there to bound.
    """

    def __init__(self, d_model: int, n_heads: int, qk_norm: bool = False, causal: bool = False):
        super().__init__(d_model, n_heads, causal)
        d_k = d_model // n_heads
        self.q_norm = LayerNorm(d_k) if qk_norm else None
        self.k_norm = LayerNorm(d_k) if qk_norm else None
        self.logit_max = float('nan')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape  # batch, tokens, channels
        H, d_k = self.n_heads, C // self.n_heads
        # Queries, keys, values, each $(B, H, T, d_k)$
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias).split(C, dim=2)
        q, k, v = (t.reshape(B, T, H, d_k).transpose(1, 2) for t in qkv)
        # QK-norm: each head's query and key normalized over its $d_k$ channels
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        #
        # Scores $q \cdot k / \sqrt{d_k}$, and the largest of them for the measurement
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
        self.logit_max = scores.detach().abs().max().item()
        if self.causal:
            later = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(later, float('-inf'))
        # Weighted values, heads side by side, then $W^O$
        y = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        return self.out_proj(y)


class _Block(nn.Module):
    """
    ## What the five blocks share

    The constructor of the site's `Block`: `d_model, n_heads, d_ff`, then `n_layers`, the depth
    of the stack the block sits in (only DeepNorm uses it), and `causal`. Each block has an
    attention, an FFN and two LayerNorms `norm1`, `norm2`; `needs_final_norm` tells the stack
    whether its output must be normalized before the output layer (as Pre-LN's must).
    """
    qk_norm = False
    needs_final_norm = True

    def __init__(self, d_model: int, n_heads: int, d_ff: int, n_layers: int = 1,
                 causal: bool = False):
        super().__init__()
        self.n_layers = n_layers
        self.self_attn = Attention(d_model, n_heads, self.qk_norm, causal)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)

    def reset_parameters(self):
        # The site's initialization: Xavier (uniform) matrices, zero biases, LayerNorms at
        # $\gamma = 1, \beta = 0$
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.xavier_uniform_(p)
            elif name.endswith('bias'):
                nn.init.zeros_(p)
            else:
                nn.init.ones_(p)


class PostLN(_Block):
    r"""
    ## Post-LN and Pre-LN, for comparison

    The two arrangements of [Add & norm](index.md), written again with this page's attention.
    """
    needs_final_norm = False

    def __init__(self, d_model: int, n_heads: int, d_ff: int, n_layers: int = 1,
                 causal: bool = False):
        super().__init__(d_model, n_heads, d_ff, n_layers, causal)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # $\mathrm{LN}(x + F(x))$
        x = self.norm1(x + self.self_attn(x))
        return self.norm2(x + self.ffn(x))


class PreLN(_Block):
    def __init__(self, d_model: int, n_heads: int, d_ff: int, n_layers: int = 1,
                 causal: bool = False):
        super().__init__(d_model, n_heads, d_ff, n_layers, causal)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # $x + F(\mathrm{LN}(x))$
        x = x + self.self_attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class DeepNorm(_Block):
    r"""
    ## DeepNorm

    $x_{l+1} = \mathrm{LN}(\alpha x_l + G_l(x_l))$ with the encoder constants of the authors'
    code, $\alpha = (2N)^{1/4}$ and $\beta = (8N)^{-1/4}$ for $N$ = `n_layers`. No final
    LayerNorm: every block already ends in one.
    """
    needs_final_norm = False

    def __init__(self, d_model: int, n_heads: int, d_ff: int, n_layers: int = 1,
                 causal: bool = False):
        super().__init__(d_model, n_heads, d_ff, n_layers, causal)
        self.alpha = (2 * n_layers) ** 0.25
        self.beta = (8 * n_layers) ** -0.25
        self.reset_parameters()

    def reset_parameters(self):
        # Xavier first, then $W^V$ (the last third of the stacked input projection), $W^O$ and
        # the FFN's $W^1, W^2$ scaled by $\beta$; $W^Q$ and $W^K$ keep their Xavier scale
        super().reset_parameters()
        C = self.norm1.normalized_shape[0]
        with torch.no_grad():
            self.self_attn.in_proj_weight[2 * C:].mul_(self.beta)
            for w in (self.self_attn.out_proj.weight, self.ffn.linear1.weight,
                      self.ffn.linear2.weight):
                w.mul_(self.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The residual up-weighted by $\alpha$ before the sum is normalized
        x = self.norm1(self.alpha * x + self.self_attn(x))
        return self.norm2(self.alpha * x + self.ffn(x))


class PeriLN(_Block):
    r"""
    ## Peri-LN (Sandwich-LN)

    Pre-LN's input norms `norm1`, `norm2`, and an output norm for each sub-layer, `norm1_out` and
    `norm2_out` (Gemma 2's `post_attention_layernorm` and `post_feedforward_layernorm`). The
    residual stream itself is never normalized, so the stack needs the final LayerNorm.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, n_layers: int = 1,
                 causal: bool = False):
        super().__init__(d_model, n_heads, d_ff, n_layers, causal)
        self.norm1_out = LayerNorm(d_model)
        self.norm2_out = LayerNorm(d_model)
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # $x + \mathrm{LN}_{out}(F(\mathrm{LN}_{in}(x)))$
        x = x + self.norm1_out(self.self_attn(self.norm1(x)))
        return x + self.norm2_out(self.ffn(self.norm2(x)))


class QKNorm(PreLN):
    r"""
    ## QK-norm

    A Pre-LN block whose attention normalizes queries and keys.
    """
    qk_norm = True


class Stack(nn.Module):
    r"""
    ## A stack of any of these blocks

    Token embeddings plus fixed sinusoidal positions, `n_layers` blocks of `block_class`, a final
    LayerNorm when the block needs one, and the output layer.
    """

    def __init__(self, block_class: type, vocab_size: int, max_len: int, n_layers: int,
                 d_model: int, n_heads: int, d_ff: int, causal: bool = False):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        # Position $t$, channel pair $i$: $\sin(t \omega_i), \cos(t \omega_i)$,
        # $\omega_i = 10000^{-2i/C}$
        angle = torch.arange(max_len)[:, None] * 10000 ** (-torch.arange(0, d_model, 2) / d_model)
        self.register_buffer('pos', torch.stack([angle.sin(), angle.cos()], -1).flatten(1),
                             persistent=False)
        self.blocks = nn.ModuleList([block_class(d_model, n_heads, d_ff, n_layers=n_layers,
                                                 causal=causal) for _ in range(n_layers)])
        self.norm_final = LayerNorm(d_model) if block_class.needs_final_norm else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        B, T = tokens.shape  # batch, tokens
        x = self.tok_emb(tokens) + self.pos[:T]
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm_final(x))


# The five blocks, by the name the page uses
BLOCKS = {'Post-LN': PostLN, 'Pre-LN': PreLN, 'DeepNorm': DeepNorm, 'Peri-LN': PeriLN,
          'QK-norm': QKNorm}
# The measurement: 8 blocks, 300 steps, 6 seeds (sized to fit about ten minutes of one shared core)
CONFIG = dict(n_layers=8, d_model=64, n_heads=4, d_ff=128, vocab=16, seq_len=16, batch=32,
              steps=300, lr=1e-3, probe_batch=64, seeds=list(range(6)))


def reverse_batch(generator: torch.Generator, batch: int, c: Dict):
    # The reversal task: random tokens, and the same tokens back to front as targets
    tokens = torch.randint(c['vocab'], (batch, c['seq_len']), generator=generator)
    return tokens, tokens.flip(1)


def probe(model: Stack, tokens: torch.Tensor, targets: torch.Tensor) -> Dict[str, List[float]]:
    r"""
    ## One probe: per-layer norms

    One forward and backward pass: the RMS of each block's output, the gradient norm of each
    block's $W^2$ and each block's largest attention score. Gradients are cleared before and
    after, so a probe never touches training.
    """
    outputs = []
    hooks = [b.register_forward_hook(lambda m, a, out: outputs.append(out.detach()))
             for b in model.blocks]
    model.zero_grad()
    logits = model(tokens)
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    loss.backward()
    for h in hooks:
        h.remove()
    out = {'activation': [o.square().mean().sqrt().item() for o in outputs],
           'grad': [b.ffn.linear2.weight.grad.norm().item() for b in model.blocks],
           'logit_max': [b.self_attn.logit_max for b in model.blocks], 'loss': loss.item()}
    model.zero_grad()
    return out


def train(name: str, seed: int, c: Dict) -> Dict:
    """
    ## One run

    Seeded model and batches; probes at initialization and after the last step, on the same
    probe batch; the loss of every step.
    """
    torch.manual_seed(seed)
    model = Stack(BLOCKS[name], c['vocab'], c['seq_len'], c['n_layers'], c['d_model'],
                  c['n_heads'], c['d_ff'])
    probe_batch = reverse_batch(torch.Generator().manual_seed(10_000 + seed), c['probe_batch'], c)
    generator = torch.Generator().manual_seed(seed)
    at_init = probe(model, *probe_batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=c['lr'], betas=(0.9, 0.98))
    losses = []
    for _ in range(c['steps']):
        tokens, targets = reverse_batch(generator, c['batch'], c)
        loss = F.cross_entropy(model(tokens).flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {'init': at_init, 'trained': probe(model, *probe_batch), 'losses': losses}


def measure(c: Dict = CONFIG, log=print) -> Dict:
    """
    ## Every block, every seed, and the record the page draws from
    """
    start = time.time()
    runs = {}
    for name in BLOCKS:
        runs[name] = []
        for seed in c['seeds']:
            t = time.time()
            r = train(name, seed, c)
            runs[name].append({'init': r['init'], 'trained': r['trained'],
                               'losses': [round(v, 5) for v in r['losses']]})
            log(f'{name}, seed {seed}: last loss {r["losses"][-1]:.3f}, {time.time() - t:.1f} s')
    return {**run_record('python -m labml_nn_norm.transformer.placement --run', start),
            'config': c, 'runs': runs}


def load_results(path: Path = RESULTS) -> Dict:
    # The schema the page relies on; a missing key fails here, not in a plot
    results = json.loads(path.read_text(encoding='utf-8'))
    for key in ('command', 'date', 'torch', 'wall_time_s', 'config', 'runs'):
        if key not in results:
            raise KeyError(f'{path.name} has no {key!r}')
    if set(results['runs']) != set(BLOCKS):
        raise KeyError(f'{path.name}: blocks {sorted(results["runs"])}')
    return results


# How a trend is read: one rule for every cell of the table
BOOTSTRAP = 4000


def per_seed_slopes(values: torch.Tensor) -> torch.Tensor:
    # Least-squares slope of ln(value) against the layer index, one per seed: (seeds, layers)
    y = values.log()
    x = torch.arange(values.shape[1], dtype=values.dtype)
    xc = x - x.mean()
    return ((y - y.mean(1, keepdim=True)) * xc).sum(1) / xc.square().sum()


def trend(results: Dict, name: str, when: str, what: str) -> Dict:
    """The statistic of one cell: mean slope over seeds, its bootstrap interval, the verdict."""
    values = torch.tensor([r[when][what] for r in results['runs'][name]], dtype=torch.float64)
    slopes = per_seed_slopes(values)
    generator = torch.Generator().manual_seed(0)
    draws = torch.randint(len(slopes), (BOOTSTRAP, len(slopes)), generator=generator)
    means = slopes[draws].mean(1)
    lo, hi = torch.quantile(means, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return {'slope': slopes.mean().item(), 'lo': lo, 'hi': hi, 'n': len(slopes),
            'verdict': verdict(lo, hi, values.shape[1] - 1)}


CELLS = [('init', 'activation'), ('trained', 'activation'), ('init', 'grad'), ('trained', 'grad')]

# What the prose says: the verdict of each cell (checked in `_test()` against the rule)
STATED = {('Post-LN', 'init', 'activation'): 'about flat',
          ('Post-LN', 'trained', 'activation'): 'about flat',
          ('DeepNorm', 'init', 'activation'): 'about flat',
          ('DeepNorm', 'trained', 'activation'): 'about flat',
          ('Pre-LN', 'init', 'activation'): 'grows', ('Pre-LN', 'trained', 'activation'): 'grows',
          ('QK-norm', 'init', 'activation'): 'grows',
          ('QK-norm', 'trained', 'activation'): 'grows',
          ('Peri-LN', 'init', 'activation'): 'grows',
          ('Peri-LN', 'trained', 'activation'): 'grows',
          ('Post-LN', 'init', 'grad'): 'inconclusive', ('DeepNorm', 'init', 'grad'): 'about flat',
          ('Pre-LN', 'init', 'grad'): 'decreases', ('Peri-LN', 'init', 'grad'): 'decreases',
          ('QK-norm', 'init', 'grad'): 'decreases', ('Post-LN', 'trained', 'grad'): 'grows',
          ('Pre-LN', 'trained', 'grad'): 'decreases', ('DeepNorm', 'trained', 'grad'): 'decreases',
          ('Peri-LN', 'trained', 'grad'): 'decreases',
          ('QK-norm', 'trained', 'grad'): 'decreases'}


def _median_range(values: List[float], fmt: str = '.2f') -> str:
    v = sorted(values)
    return f'{v[len(v) // 2]:{fmt}} [{v[0]:{fmt}}, {v[-1]:{fmt}}]'


# Mid-tone colours for light and dark pages; text and axes in grey
COLORS = {'init': '#4c78a8', 'trained': '#e45756'}
INK = '#888888'


def figure_placement(results: Dict):
    """
    ## The small multiples

    One column per block; activation RMS on top, the gradient norm of $W^2$ below; in each
    panel the median over seeds and the band from the smallest to the largest, at initialization
    and after training. Logarithmic axes, shared along each row.
    """
    import matplotlib.pyplot as plt

    plt.rcParams['font.sans-serif'] = ['DejaVu Sans']
    c = results['config']
    fig, axes = plt.subplots(2, len(BLOCKS), figsize=(9.6, 4.4), sharex=True, sharey='row')
    fig.patch.set_alpha(0)
    layers = range(1, c['n_layers'] + 1)
    labels = {'init': 'initialization', 'trained': f"after {c['steps']} steps"}
    for col, name in enumerate(BLOCKS):
        for row, what in enumerate(('activation', 'grad')):
            ax = axes[row, col]
            for when, color in COLORS.items():
                v = torch.tensor([r[when][what] for r in results['runs'][name]])
                ax.fill_between(layers, v.min(0).values, v.max(0).values, color=color,
                                alpha=0.2, lw=0)
                ax.plot(layers, v.median(0).values, color=color, lw=1.4, marker='o', ms=2.5,
                        label=labels[when])
            ax.set_yscale('log')
            ax.set_facecolor('none')
            ax.grid(alpha=0.25, color=INK)
            ax.tick_params(which='both', colors=INK, labelsize=7)
            for spine in ax.spines.values():
                spine.set_color(INK)
        axes[0, col].set_title(name, fontsize=9, color=INK)
        axes[1, col].set_xlabel('layer', fontsize=8, color=INK)
    axes[0, 0].set_ylabel('activation RMS', fontsize=8, color=INK)
    axes[1, 0].set_ylabel('gradient norm of W2', fontsize=8, color=INK)
    legend = axes[0, 0].legend(fontsize=7, frameon=False)
    for text in legend.get_texts():
        text.set_color(INK)
    fig.suptitle(f"median of {len(c['seeds'])} seeds; band: smallest to largest", fontsize=8,
                 color=INK)
    fig.tight_layout()
    return fig


def _artifacts():
    """
    ## The figure and the tables, from `results/placement.json`
    """
    r = load_results()
    c = r['config']
    rows = ['| block | activation, initialization | activation, trained | '
            'gradient, initialization | gradient, trained |', '| --- ' * 5 + '|']
    for name in BLOCKS:
        cells = []
        for when, what in CELLS:
            t = trend(r, name, when, what)
            cells.append(f"{t['verdict']}, slope {t['slope']:+.3f} "
                         f"[{t['lo']:+.3f}, {t['hi']:+.3f}]")
        rows.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    table = [f"Slope of ln(value) per layer, mean of {len(c['seeds'])} seeds, and its 95% "
             f"bootstrap interval:", ''] + rows
    logit_rows = ['| block | largest score, initialization | largest score, trained | '
                  'loss, last 50 steps |', '| --- ' * 4 + '|']
    for name, runs in r['runs'].items():
        init = [max(x['init']['logit_max']) for x in runs]
        trained = [max(x['trained']['logit_max']) for x in runs]
        last = [sum(x['losses'][-50:]) / 50 for x in runs]
        logit_rows.append(f'| {name} | {_median_range(init)} | {_median_range(trained)} | '
                          f'{_median_range(last, ".3f")} |')
    logit_rows += ['', 'Median [smallest, largest] over the seeds; the largest score is over '
                   'all layers, heads and tokens of the probe batch.']
    meta = (f"Measured on {r['date'][:10]} with PyTorch {r['torch']}, {r['threads']} thread, "
            f"in {r['wall_time_s']} s: `{r['command']}`.")
    return {'placement': figure_placement(r), 'verdict_table': '\n'.join(table),
            'logit_table': '\n'.join(logit_rows), 'measurement_meta': meta}



def _ln(norm: LayerNorm, t: torch.Tensor) -> torch.Tensor:
    # A LayerNorm module's formula, through `F.layer_norm`
    return F.layer_norm(t, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


def _attention_by_hand(attn: Attention, x: torch.Tensor) -> torch.Tensor:
    # The attention through `F.scaled_dot_product_attention`, with the normalized q and k
    B, T, C = x.shape
    H, d_k = attn.n_heads, C // attn.n_heads
    q, k, v = (F.linear(x, w, b).view(B, T, H, d_k).transpose(1, 2) for w, b in
               zip(attn.in_proj_weight.split(C), attn.in_proj_bias.split(C)))
    if attn.q_norm is not None:
        q, k = _ln(attn.q_norm, q), _ln(attn.k_norm, k)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=attn.causal)
    return attn.out_proj(y.transpose(1, 2).reshape(B, T, C))


def _ffn_by_hand(ffn: FeedForward, x: torch.Tensor) -> torch.Tensor:
    return F.linear(F.relu(F.linear(x, ffn.linear1.weight, ffn.linear1.bias)),
                    ffn.linear2.weight, ffn.linear2.bias)


@check_group
def _check_formulas():
    r"""
    ## Each block is its formula

    Every parameter drawn at random (LayerNorm weights too), inputs shifted and scaled, each
    block against its formula written out with `F.layer_norm` and
    `F.scaled_dot_product_attention`; causal and not.
    """
    from labml_nn_norm._check import check_close

    x = torch.randn(3, 7, 32) * 3 + 1
    for causal in (False, True):
        blocks = {name: cls(32, 4, 64, n_layers=6, causal=causal) for name, cls in BLOCKS.items()}
        for block in blocks.values():
            with torch.no_grad():
                for p in block.parameters():
                    p.normal_(std=0.3).add_(0.1)
        b = blocks['Post-LN']
        h = _ln(b.norm1, x + _attention_by_hand(b.self_attn, x))
        check_close(f'Post-LN, causal={causal}: LN(x + F(x))', b(x),
                    _ln(b.norm2, h + _ffn_by_hand(b.ffn, h)))
        for name in ('Pre-LN', 'QK-norm'):
            b = blocks[name]
            h = x + _attention_by_hand(b.self_attn, _ln(b.norm1, x))
            check_close(f'{name}, causal={causal}: x + F(LN(x))', b(x),
                        h + _ffn_by_hand(b.ffn, _ln(b.norm2, h)))
        b = blocks['DeepNorm']
        h = _ln(b.norm1, b.alpha * x + _attention_by_hand(b.self_attn, x))
        check_close(f'DeepNorm, causal={causal}: LN(alpha x + F(x)), alpha = (2N)^(1/4)', b(x),
                    _ln(b.norm2, b.alpha * h + _ffn_by_hand(b.ffn, h)))
        b = blocks['Peri-LN']
        h = x + _ln(b.norm1_out, _attention_by_hand(b.self_attn, _ln(b.norm1, x)))
        check_close(f'Peri-LN, causal={causal}: x + LN_out(F(LN_in(x)))', b(x),
                    h + _ln(b.norm2_out, _ffn_by_hand(b.ffn, _ln(b.norm2, h))))


@check_group
def _check_qk_norm():
    r"""
    ## QK-norm's scores

    The scores are the normalized $q \cdot k / \sqrt{d_k}$; at initialization ($\gamma = 1$) none
    exceeds $\sqrt{d_k}$, however large the input; without QK-norm they grow with the input.
    """
    from labml_nn_norm._check import check, check_close

    attn = Attention(32, 4, qk_norm=True)
    with torch.no_grad():
        attn.q_norm.weight.normal_()
        attn.k_norm.weight.normal_()
    x = torch.randn(2, 9, 32) * 5
    attn(x)
    q, k, _ = (t.view(2, 9, 4, 8).transpose(1, 2)
               for t in F.linear(x, attn.in_proj_weight, attn.in_proj_bias).split(32, dim=2))
    scores = _ln(attn.q_norm, q) @ _ln(attn.k_norm, k).transpose(-2, -1) / math.sqrt(8)
    check_close('largest |score| == max |LN(q) . LN(k)| / sqrt(d_k), by hand',
                torch.tensor(attn.logit_max), scores.abs().max())
    for scale in (1.0, 100.0):
        with_norm, without = Attention(32, 4, qk_norm=True), Attention(32, 4)
        with_norm(torch.randn(2, 9, 32) * scale)
        without(torch.randn(2, 9, 32) * scale)
        check(f'input x {scale:g}: largest score with QK-norm <= sqrt(d_k) = {math.sqrt(8):.2f}',
              with_norm.logit_max <= math.sqrt(8),
              f'{with_norm.logit_max:.2f}; without QK-norm {without.logit_max:.2f}')


@check_group
def _check_init():
    r"""
    ## DeepNorm's constants and its initialization

    $\alpha = (2N)^{1/4}$ and $\beta = (8N)^{-1/4}$; with the same seed, DeepNorm's $W^V$, $W^O$,
    $W^1$, $W^2$ are Post-LN's times $\beta$ and its $W^Q$, $W^K$ are Post-LN's.
    """
    from labml_nn_norm._check import check, check_close

    b = DeepNorm(64, 4, 128, n_layers=8)
    check('N = 8: alpha = 16^(1/4) = 2, beta = 64^(-1/4) = 0.354',
          abs(b.alpha - 2) < 1e-12 and abs(b.beta - 64 ** -0.25) < 1e-12,
          f'alpha {b.alpha:.4f}, beta {b.beta:.4f}')
    torch.manual_seed(0)
    post = PostLN(64, 4, 128, n_layers=8)
    torch.manual_seed(0)
    deep = DeepNorm(64, 4, 128, n_layers=8)
    scaled = {'W^V': lambda m: m.self_attn.in_proj_weight[128:],
              'W^O': lambda m: m.self_attn.out_proj.weight,
              'W^1': lambda m: m.ffn.linear1.weight, 'W^2': lambda m: m.ffn.linear2.weight}
    for name, get in scaled.items():
        check_close(f'{name} = beta x Xavier', get(deep), deep.beta * get(post))
    check_close('W^Q, W^K unchanged', deep.self_attn.in_proj_weight[:128],
                post.self_attn.in_proj_weight[:128], rtol=0, atol=0)
    check('biases zero, LayerNorms at gamma = 1', all(
        torch.equal(p, torch.zeros_like(p) if n.endswith('bias') else torch.ones_like(p))
        for n, p in deep.named_parameters() if p.dim() == 1))


@check_group
def _check_stack():
    """
    ## Drop-in blocks

    All five take the same arguments; the stack adds the final LayerNorm to Pre-LN, Peri-LN and
    QK-norm only; each block, in a 2-block stack, trains (the loss falls in 30 steps).
    """
    import inspect

    from labml_nn_norm._check import check

    signatures = {name: list(inspect.signature(cls).parameters) for name, cls in BLOCKS.items()}
    check('every block: (d_model, n_heads, d_ff, n_layers, causal)',
          all(s == ['d_model', 'n_heads', 'd_ff', 'n_layers', 'causal']
              for s in signatures.values()))
    tiny = dict(CONFIG, n_layers=2, d_model=32, n_heads=2, d_ff=64, batch=16, steps=30, lr=3e-3,
                probe_batch=8)
    for name in BLOCKS:
        torch.manual_seed(0)
        stack = Stack(BLOCKS[name], 16, 16, 2, 32, 2, 64)
        final = isinstance(stack.norm_final, LayerNorm)
        losses = train(name, 0, tiny)['losses']
        first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
        check(f"{name}: final LayerNorm {'yes' if final else 'no'}; loss falls in 30 steps",
              final == BLOCKS[name].needs_final_norm and last < first - 0.1,
              f'{first:.3f} -> {last:.3f}')


@check_group
def _check_statistics():
    """
    ## The verdict rule, on cases worked out by hand
    """
    from labml_nn_norm._check import check

    layers = torch.arange(8, dtype=torch.float64)
    slopes = per_seed_slopes(torch.stack([(0.1 * layers).exp(), (-0.2 * layers).exp() * 3]))
    check('slope of ln(e^(0.1 l)) = 0.1, of ln(3 e^(-0.2 l)) = -0.2',
          torch.allclose(slopes, torch.tensor([0.1, -0.2], dtype=torch.float64)))
    check('verdicts: [0.005, 0.01] about flat, [0.1, 0.2] grows, [-0.2, -0.1] decreases, '
          '[-0.1, 0.2] inconclusive',
          [verdict(0.005, 0.01, 7), verdict(0.1, 0.2, 7), verdict(-0.2, -0.1, 7),
           verdict(-0.1, 0.2, 7)] == ['about flat', 'grows', 'decreases', 'inconclusive'])


@check_group
def _check_saved_results():
    """
    ## The page's claims on the saved record

    The record loads, one seed is re-run and matches it, and every verdict and count the prose
    states is what the rule gives on it.
    """
    from labml_nn_norm._check import check, check_close, note

    r = load_results()
    c = r['config']
    note('results/placement.json', f"{r['date'][:10]}, torch {r['torch']}, {r['wall_time_s']} s")
    check('5 blocks, at least 5 seeds each, one loss per step',
          len(c['seeds']) >= 5 and all(len(runs) == len(c['seeds']) and
                                       all(len(x['losses']) == c['steps'] for x in runs)
                                       for runs in r['runs'].values()))
    check('the setting the prose describes: 8 blocks of 64 channels, 4 heads, d_ff 128, '
          '300 steps, lr 1e-3, batches of 32, probe of 64',
          (c['n_layers'], c['d_model'], c['n_heads'], c['d_ff'], c['steps'], c['lr'],
           c['batch'], c['probe_batch']) == (8, 64, 4, 128, 300, 1e-3, 32, 64))
    again = train('Peri-LN', c['seeds'][0], dict(c, steps=0))['init']
    saved = r['runs']['Peri-LN'][0]['init']
    check_close('Peri-LN, first seed, at initialization: every per-layer value == record',
                torch.tensor(again['activation'] + again['grad']),
                torch.tensor(saved['activation'] + saved['grad']), rtol=1e-4, atol=1e-7)
    for (name, when, what), stated in STATED.items():
        t = trend(r, name, when, what)
        check(f'{name}, {what} {when}: {stated}', t['verdict'] == stated,
              f"slope {t['slope']:+.3f} [{t['lo']:+.3f}, {t['hi']:+.3f}], {t['n']} seeds")
    #
    # The sentence about attention scores
    bound = math.sqrt(c['d_model'] // c['n_heads'])
    qk_init = [max(x['init']['logit_max']) for x in r['runs']['QK-norm']]
    check(f'QK-norm at initialization: largest score below sqrt(d_k) = {bound:g} in '
          f'{len(qk_init)} of {len(qk_init)} seeds', max(qk_init) < bound,
          f'largest {max(qk_init):.2f}')
    medians = {name: sorted(max(x['trained']['logit_max']) for x in runs)[len(runs) // 2]
               for name, runs in r['runs'].items()}
    check('QK-norm after training: the smallest median largest score of the five',
          min(medians, key=medians.get) == 'QK-norm',
          ', '.join(f'{n} {v:.1f}' for n, v in medians.items()))
    for name in ('Pre-LN', 'Peri-LN'):
        median = torch.tensor([x['trained']['activation'] for x in r['runs'][name]]).median(0)
        top = int(median.values.argmax()) + 1
        check(f'{name}, trained: the median activation peaks before the last layer',
              top < c['n_layers'], f'peak at layer {top} of {c["n_layers"]}')
    check('after training: Pre-LN and DeepNorm have the two largest medians',
          set(sorted(medians, key=medians.get)[-2:]) == {'Pre-LN', 'DeepNorm'})
    #
    # The sentences about the loss: the mean of the last 50 steps of each seed
    n = len(c['seeds'])
    last = {name: [sum(x['losses'][-50:]) / 50 for x in runs] for name, runs in r['runs'].items()}
    check(f'Post-LN: last-50-step loss above 1.0 in {n} of {n} seeds; every other block below '
          f'1.0 in {n} of {n} seeds', all(v > 1.0 for v in last['Post-LN']) and
          all(v < 1.0 for name in BLOCKS if name != 'Post-LN' for v in last[name]),
          ', '.join(f'{name} max {max(v):.3f}' for name, v in last.items()))
    lowest = sum(all(last['DeepNorm'][i] < last[name][i] for name in BLOCKS if name != 'DeepNorm')
                 for i in range(n))
    check(f'DeepNorm: the lowest last-50-step loss of the five in {n} of {n} seeds', lowest == n,
          f'{lowest} of {n}')
    check('the prose\'s seed count: all 6 seeds', n == 6)


def _test():
    """
    ## Run all the checks
    """
    torch.manual_seed(0)
    # Tensors this small run faster on one thread than on several that compete for the cores
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _check_formulas()
        _check_qk_norm()
        _check_init()
        _check_stack()
        _check_statistics()
        _check_saved_results()
    finally:
        torch.set_num_threads(threads)


def _main():
    # `--run`: the full measurement (minutes); otherwise the checks
    if '--run' not in sys.argv[1:]:
        _test()
        return
    torch.set_num_threads(1)
    results = measure()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + '\n', encoding='utf-8')
    print(f'wrote {RESULTS.name}: {results["wall_time_s"]} s')


if __name__ == '__main__':
    _main()

# ## Sources
#
# * Wang, Ma, Dong, Huang, Zhang, Wei,
#   [DeepNet: Scaling Transformers to 1,000 Layers](https://arxiv.org/abs/2203.00555), 2022. We
#   could not read the paper; its constants are taken from the authors' code, torchscale:
#   $\alpha = (2N)^{1/4}$ for an encoder of $N$ layers,
#   [`encoder.py` L78-L89](https://github.com/microsoft/torchscale/blob/4d1e0e82e5adf86dd424f1463192635b73fc8efc/torchscale/architecture/encoder.py#L78-L89),
#   the residual `residual * self.alpha + x`
#   ([L113-L114](https://github.com/microsoft/torchscale/blob/4d1e0e82e5adf86dd424f1463192635b73fc8efc/torchscale/architecture/encoder.py#L113-L114)),
#   and `fc1`, `fc2`, `out_proj`, `v_proj` divided by $(8N)^{1/4}$
#   ([L235-L252](https://github.com/microsoft/torchscale/blob/4d1e0e82e5adf86dd424f1463192635b73fc8efc/torchscale/architecture/encoder.py#L235-L252));
#   `deepnorm` turns `encoder_normalize_before` off
#   ([`config.py` L75-L77](https://github.com/microsoft/torchscale/blob/4d1e0e82e5adf86dd424f1463192635b73fc8efc/torchscale/architecture/config.py#L75-L77));
#   "DeepNorm to improve the training stability of Post-LayerNorm Transformers"
#   ([`README.md` L118](https://github.com/microsoft/torchscale/blob/4d1e0e82e5adf86dd424f1463192635b73fc8efc/README.md#L118)).
# * Kim et al., [Peri-LN: Revisiting Normalization Layer in the Transformer
#   Architecture](https://arxiv.org/abs/2502.02732), ICML 2025: the abstracts of the second and
#   third versions (the quotes above); we did not read the body.
# * Ding et al., [CogView](https://arxiv.org/abs/2105.13290), 2021: cited for the name
#   Sandwich-LN only, not read.
# * Gemma 2's decoder layer, norms before and after each sub-layer,
#   [`gemma/model.py` L426-L457](https://github.com/google/gemma_pytorch/blob/014acb7ac4563a5f77c76d7ff98f31b568c16508/gemma/model.py#L426-L457),
#   enabled for Gemma 2 2B by `use_pre_ffw_norm`, `use_post_ffw_norm`
#   ([`config.py` L119-L129](https://github.com/google/gemma_pytorch/blob/014acb7ac4563a5f77c76d7ff98f31b568c16508/gemma/config.py#L119-L129));
#   Gemma 3's QK-norm, an RMSNorm of `head_dim` channels,
#   [`model.py` L248-L257](https://github.com/google/gemma_pytorch/blob/014acb7ac4563a5f77c76d7ff98f31b568c16508/gemma/model.py#L248-L257)
#   and [L285-L287](https://github.com/google/gemma_pytorch/blob/014acb7ac4563a5f77c76d7ff98f31b568c16508/gemma/model.py#L285-L287),
#   `use_qk_norm=True` for Gemma 3 1B
#   ([`config.py` L205](https://github.com/google/gemma_pytorch/blob/014acb7ac4563a5f77c76d7ff98f31b568c16508/gemma/config.py#L205)).
# * OLMo: QK-norm over all queries and all keys,
#   [`olmo/model.py` L432-L441](https://github.com/allenai/OLMo/blob/59a53e3f68e546330ca5a99ec626e58f9ab96494/olmo/model.py#L432-L441)
#   and [L603-L605](https://github.com/allenai/OLMo/blob/59a53e3f68e546330ca5a99ec626e58f9ab96494/olmo/model.py#L603-L605);
#   `norm_after`, the output norm only,
#   [L786-L821](https://github.com/allenai/OLMo/blob/59a53e3f68e546330ca5a99ec626e58f9ab96494/olmo/model.py#L786-L821);
#   OLMo 2 7B sets both
#   ([`OLMo2-7B-stage1.yaml` L22-L24](https://github.com/allenai/OLMo/blob/59a53e3f68e546330ca5a99ec626e58f9ab96494/configs/official-1124/OLMo2-7B-stage1.yaml#L22-L24)).
# * Dehghani et al., [Scaling Vision Transformers to 22 Billion
#   Parameters](https://arxiv.org/abs/2302.05442), ICML 2023: the abstract only.
# * [Methods of improving LLM training stability](https://arxiv.org/abs/2410.16682),
#   2024: the abstract (attention-logit growth as a source of instability, citing Dehghani et
#   al.; QK layer normalization as done there).
# * Post-LN, Pre-LN, the reversal task and Xiong et al.'s measurement:
#   [Add & norm](index.md), [Post-LN vs Pre-LN, trained](experiment.md).
