r"""
---
title: Post-LN vs Pre-LN, trained
summary: A synthetic sequence task trained four ways - Post-LN and Pre-LN, each with and without
  warm-up - at two learning rates and five seeds on a CPU, and only like-for-like comparisons.
section: LayerNorm in the Transformer
order: 22
---

# Post-LN vs Pre-LN, trained

[Add & norm](index.md) measured the gradients at initialization. This page trains the same
[`Transformer`](index.md) and reports what happens. Xiong et al.
([arXiv 2002.04745](https://arxiv.org/abs/2002.04745)) found on IWSLT14 De-En that Post-LN
trained with Adam reaches a BLEU of only 8.45 without warm-up against about 34 with it, and that
the result is sensitive to the warm-up length and the learning rate (§3.2, Figure 2); and that
Pre-LN without warm-up reaches comparable results faster (§4.2). Our toy task is far smaller,
so it can show whether the same *kind* of behaviour appears, not confirm their numbers.

Their §4.2 sets two recipes side by side: Pre-LN without warm-up against Post-LN with warm-up.
That comparison changes two things at once, the arrangement and the schedule, so it cannot say
which of the two made a difference. We train all four combinations and compare only runs that
differ in one thing:

* **the arrangement**: Post-LN against Pre-LN, both without warm-up, and both with it;
* **warm-up**: with against without, for Post-LN, and for Pre-LN.

With warm-up, the learning rate at step $t = 1, 2, \dots$ is

$$\eta_t = \eta \cdot \min(1, t / t_\text{warmup})$$

## What you will learn

* a task and a schedule that need no data: [the data](#the-data) and
  [the schedule](#the-schedule);
* how a loss curve becomes words ("learns", "solved", "near chance"), each a rule in code:
  [reading one curve](#reading-one-curve);
* how to compare runs that differ in one thing, seed by seed, and what five seeds can separate:
  [the verdict rule](#the-verdict-rule-for-a-learns-before-b);
* what the saved runs show about the arrangement and warm-up:
  [the page's claims on the saved runs](#the-pages-claims-on-the-saved-runs);
* in the [exercises](#exercises): a warm-up of one step, the chance loss, how many seeds a
  stricter test needs, and a single loss spike.
"""

import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from labml_nn_norm._check import check, check_close, check_group, note
from labml_nn_norm._record import run_record
from labml_nn_norm.transformer import Transformer

# **The task**, with no downloaded data: reverse a random sequence. The input is $T$ random tokens,
# the target at position $t$ is the input token at position $T - 1 - t$, and the loss is the
# cross-entropy over all positions. Chance level is $\ln(\text{vocab}) = \ln 16 \approx 2.77$.
# Solving it needs attention (each position must find its mirror position), so it exercises the
# whole block. For each seed, all four runs start from the same initialization of their
# parameters (`_test()` checks this), see the same batches, and use Adam with the same peak
# learning rate. Five seeds at each of two peak learning rates: 40 runs of 400 steps, with batches
# of 32 sequences (64 before, halved so that the runs fit on a shared CPU).

RESULTS = Path(__file__).resolve().parent / 'results' / 'reverse.json'

# The setting of the full run: deep enough, and a peak learning rate high enough, for Post-LN to
# need warm-up; a 3x lower peak learning rate to see how that changes; five seeds. (Batches of 32
# sequences, halved from 64 so that all 40 runs take about nine minutes of a free CPU core)
CONFIG = dict(n_layers=6, d_model=64, n_heads=4, d_ff=256, vocab=16, seq_len=16, batch=32,
              steps=400, lrs=[3e-3, 1e-3], warmup=100, seeds=[0, 1, 2, 3, 4])

# Both arrangements, each with and without warm-up: two by two, so that every comparison below
# changes one thing only
RUNS = {'Post-LN, no warm-up': dict(norm_first=False, warmup=False),
        'Pre-LN, no warm-up': dict(norm_first=True, warmup=False),
        'Post-LN, warm-up': dict(norm_first=False, warmup=True),
        'Pre-LN, warm-up': dict(norm_first=True, warmup=True)}


def reverse_batch(generator: torch.Generator, batch: int, seq_len: int, vocab: int):
    """
    ## The data

    Random tokens and their reversal, drawn from a seeded generator so every run sees the same
    batches.
    """
    tokens = torch.randint(vocab, (batch, seq_len), generator=generator)
    return tokens, tokens.flip(1)


# With warm-up the learning rate rises linearly from 0 to its peak over the first `warmup` steps
# and then stays there; without it, the peak rate is used from step 1.

def learning_rate(step: int, lr: float, warmup: int, use_warmup: bool) -> float:
    r"""
    ## The schedule

    Linear warm-up $\eta_t = \eta \cdot \min(1, t / t_\text{warmup})$, or the constant $\eta$.
    """
    return lr * min(1.0, (step + 1) / warmup) if use_warmup else lr


def train(norm_first: bool, warmup: bool, config: Dict, lr: float, seed: int,
          verbose: bool = False) -> List[float]:
    """
    ## One run

    Returns the training loss of every step. With `verbose`, labml's `monit` and `tracker` print
    the progress and the loss (they need no experiment server: nothing is written or sent).
    """
    if verbose:
        # Only the full run logs through labml (its logger cannot be imported inside Jupyter
        # with IPython 9: see CONTRIBUTING.md, "Notebooks")
        from labml import monit, tracker

    c = config
    torch.manual_seed(seed)
    model = Transformer(c['vocab'], c['seq_len'], c['n_layers'], c['d_model'], c['n_heads'],
                        c['d_ff'], norm_first=norm_first)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for step in (monit.loop(c['steps']) if verbose else range(c['steps'])):
        # Set this step's learning rate, then one Adam step on a fresh batch
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, lr, c['warmup'], warmup)
        tokens, targets = reverse_batch(generator, c['batch'], c['seq_len'], c['vocab'])
        loss = F.cross_entropy(model(tokens).reshape(-1, c['vocab']), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # A diverged run keeps its NaN: the plot shows where it stopped
        losses.append(loss.item())
        if verbose:
            tracker.save(step, loss=loss.item())
    return losses


def run_all(config: Dict, log=None) -> Dict:
    """
    ## All runs, and the record that the page draws from

    `losses[str(lr)][run name]` is one list of per-step losses for every seed.
    """
    start = time.time()
    curves = {}
    for lr in config['lrs']:
        curves[str(lr)] = {}
        for name, run in RUNS.items():
            curves[str(lr)][name] = []
            for seed in config['seeds']:
                t = time.time()
                curves[str(lr)][name].append(train(run['norm_first'], run['warmup'], config, lr,
                                                   seed, verbose=log is not None))
                if log:
                    log(f'lr {lr}, {name}, seed {seed}', curves[str(lr)][name][-1], time.time() - t)
    return {**run_record('python -m labml_nn_norm.transformer.experiment --run', start),
            'config': config,
            'losses': {lr: {name: [[round(v, 5) for v in losses] for losses in per_seed]
                            for name, per_seed in runs.items()}
                       for lr, runs in curves.items()}}


def load_results(path: Path = RESULTS) -> Dict:
    # The schema the page relies on; a missing key fails here rather than in the plot
    results = json.loads(path.read_text(encoding='utf-8'))
    for key in ('command', 'date', 'torch', 'wall_time_s', 'config', 'losses'):
        if key not in results:
            raise KeyError(f'{path.name} has no {key!r}')
    for lr, runs in results['losses'].items():
        if set(runs) != set(RUNS):
            raise KeyError(f'{path.name}, lr {lr}: runs {sorted(runs)}, expected {sorted(RUNS)}')
    return results


def final_loss(losses: List[float], last: int = 50) -> float:
    # The mean of the last steps, so one noisy batch does not decide the comparison
    tail = losses[-last:]
    return sum(tail) / len(tail)


# **How a curve is read** (`describe()` below, the same words everywhere on this page). The
# *smoothed loss* at step $t$ is the mean loss of steps $t - 19$ to $t$. A run **learns at step
# $t$** when its smoothed loss first falls below 1.0 at step $t$; it is **solved** when it first
# falls below 0.1; it **stays solved** when the smoothed loss stays below 0.1 from then to the last
# step; it is **near chance again** when, after learning, the smoothed loss climbs above 90% of the
# chance loss, $0.9 \ln 16 \approx 2.50$. "Never learns" means not within the 400 steps.

# How a curve is read. Every word of the page about a run ("learns", "solved", "stays solved",
# "near chance") is one of these definitions, applied to the smoothed loss
WIDTH = 20  # the smoothed loss at step t is the mean loss of steps t - 19 .. t
LEARNED = 1.0  # "learns at step t": the smoothed loss first falls below 1.0 at step t
SOLVED = 0.1  # "solved at step t": it first falls below 0.1 at step t
NEAR_CHANCE = 0.9  # "near chance": above 90% of the chance loss ln(vocab), 2.50 for 16 tokens


def smoothed(losses: List[float], width: int = WIDTH) -> Dict[int, float]:
    # {step: mean loss of the `width` steps ending there}, steps counted from 1
    return {t: sum(losses[t - width:t]) / width for t in range(width, len(losses) + 1)}


def describe(losses: List[float], vocab: int) -> dict:
    r"""
    ## Reading one curve

    The step at which the smoothed loss first crosses below `LEARNED` (learns) and `SOLVED`
    (solved), whether it then stays below `SOLVED` up to the last step (stays solved), the first
    step after learning at which it is back above `NEAR_CHANCE` of $\ln(\text{vocab})$ (near chance
    again), and the mean of the last 50 steps. `None`: it never happens within the run.
    """
    s = smoothed(losses)
    def first_below(level: float) -> Optional[int]:
        return next((t for t, m in s.items() if m < level), None)

    learns, solved = first_below(LEARNED), first_below(SOLVED)
    chance = NEAR_CHANCE * math.log(vocab)
    relapse = None if learns is None else next(
        (t for t, m in s.items() if t > learns and m > chance), None)
    return {'learns': learns, 'solved': solved, 'relapse': relapse,
            'stays_solved': solved is not None and all(m < SOLVED for t, m in s.items()
                                                       if t >= solved),
            'final': final_loss(losses)}


# **How two runs are compared** (`compare()` below): seed by seed, since both share the seed's
# initialization and batches. Run A is *first* in a seed when it learns and B learns later or not
# at all. The verdict is "A first" or "B first" only when that holds in all five seeds, and
# "inconclusive" otherwise. If neither were faster, each seed would go either way with even odds,
# and all five the same way would happen with probability $2 \cdot 2^{-5} = 1/16$: five seeds can
# separate only clear differences.

# The comparisons of the page. Each changes one thing, everything else equal (same seed, so the
# same initialization and batches, same peak learning rate): (what changes, run A, run B)
COMPARISONS = [('arrangement, both without warm-up', 'Pre-LN, no warm-up', 'Post-LN, no warm-up'),
               ('arrangement, both with warm-up', 'Pre-LN, warm-up', 'Post-LN, warm-up'),
               ('warm-up, Post-LN', 'Post-LN, warm-up', 'Post-LN, no warm-up'),
               ('warm-up, Pre-LN', 'Pre-LN, warm-up', 'Pre-LN, no warm-up')]


def compare(a: List[dict], b: List[dict]) -> dict:
    """
    ## The verdict rule for "A learns before B"

    Seed by seed (A and B share the initialization and the batches): A is first if it learns and
    B learns later or never. The verdict is "A first" or "B first" when that holds in every seed,
    "neither learns" when no run of either learns, and "inconclusive" otherwise. `delay` is B's
    step minus A's for the seeds where both learn: median, smallest and largest.
    """
    a_first = sum(x['learns'] is not None and (y['learns'] is None or x['learns'] < y['learns'])
                  for x, y in zip(a, b))
    b_first = sum(y['learns'] is not None and (x['learns'] is None or y['learns'] < x['learns'])
                  for x, y in zip(a, b))
    n = len(a)
    delays = sorted(y['learns'] - x['learns'] for x, y in zip(a, b)
                    if x['learns'] is not None and y['learns'] is not None)
    if all(x['learns'] is None and y['learns'] is None for x, y in zip(a, b)):
        result = 'neither learns'
    else:
        result = 'A first' if a_first == n else 'B first' if b_first == n else 'inconclusive'
    return {'verdict': result, 'a_first': a_first, 'b_first': b_first, 'n': n,
            'delay': (delays[len(delays) // 2], delays[0], delays[-1]) if delays else None}


def read_all(results: Dict) -> Dict:
    # {(lr, run): [describe() of each seed]}
    vocab = results['config']['vocab']
    return {(lr, name): [describe(losses, vocab) for losses in per_seed]
            for lr, runs in results['losses'].items() for name, per_seed in runs.items()}


def median_range(values: list) -> str:
    # "median [smallest, largest]" of the values that exist, and how many do not
    have = sorted(v for v in values if v is not None)
    if not have:
        return '–'
    text = f'{have[len(have) // 2]} [{have[0]}, {have[-1]}]'
    return text + (f', {len(values) - len(have)} never' if len(have) < len(values) else '')


def _artifacts():
    """
    ## The figure, the tables, from the saved results
    """
    import matplotlib.pyplot as plt

    results = load_results()
    c, read = results['config'], read_all(results)
    n = len(c['seeds'])
    # Rows: learning rates; columns: without and with warm-up; in each panel the two
    # arrangements, median over the seeds and a band from the smallest to the largest
    fig, axes = plt.subplots(len(c['lrs']), 2, figsize=(7.2, 5.6), sharex=True, sharey=True)
    for row, lr in enumerate(results['losses']):
        for col, schedule in enumerate(('no warm-up', 'warm-up')):
            ax = axes[row, col]
            for arrangement, color in (('Post-LN', '#d62728'), ('Pre-LN', '#1f77b4')):
                curves = torch.tensor(results['losses'][lr][f'{arrangement}, {schedule}'])
                steps = range(1, curves.shape[1] + 1)
                ax.plot(steps, curves.median(0).values, color=color, lw=1.2,
                        label=f'{arrangement}, median')
                ax.fill_between(steps, curves.min(0).values, curves.max(0).values, color=color,
                                alpha=0.2, lw=0)
            ax.axhline(math.log(c['vocab']), color='gray', ls=':', lw=1, label='chance, ln 16')
            if schedule == 'warm-up':
                ax.axvline(c['warmup'], color='gray', ls='--', lw=0.8)
            ax.set_title(f'peak lr {float(lr):g}, {schedule}', fontsize=9)
            ax.set_ylim(0, math.log(c['vocab']) * 1.3)
            ax.grid(alpha=0.3)
        axes[row, 0].set_ylabel('training loss')
    for ax in axes[-1]:
        ax.set_xlabel('step')
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Reverse {c['seq_len']} tokens, {c['n_layers']} layers, Adam; median of {n} "
                 f"seeds, band: smallest to largest; dashed: end of the {c['warmup']}-step "
                 "warm-up", fontsize=8)
    fig.tight_layout()
    #
    # Each run: how many seeds learn, are solved, stay solved, come back near chance
    rows = ['| peak lr | run | learns at step: median [min, max] | learns | solved | '
            'stays solved | near chance again | last 50 steps: median [min, max] |',
            '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for (lr, name), ds in read.items():
        finals = sorted(d['final'] for d in ds)
        rows.append(f"| {float(lr):g} | {name} | {median_range([d['learns'] for d in ds])} | "
                    f"{sum(d['learns'] is not None for d in ds)} of {n} | "
                    f"{sum(d['solved'] is not None for d in ds)} of {n} | "
                    f"{sum(d['stays_solved'] for d in ds)} of {n} | "
                    f"{sum(d['relapse'] is not None for d in ds)} of {n} | "
                    f"{finals[n // 2]:.3f} [{finals[0]:.3f}, {finals[-1]:.3f}] |")
    rows.append(f"\nMeasured on {results['date'][:10]} with PyTorch {results['torch']}, "
                f"{results['threads']} thread(s) on a shared two-core machine: "
                f"{results['wall_time_s']} s for all {len(read) * n} runs.")
    #
    # Each like-for-like comparison, at each learning rate
    comparisons = ['| what changes | peak lr | A | B | verdict | A first | B first | '
                   'B later by (steps): median [min, max] |',
                   '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for what, a, b in COMPARISONS:
        for lr in results['losses']:
            r = compare(read[lr, a], read[lr, b])
            delay = '–' if r['delay'] is None else '{} [{}, {}]'.format(*r['delay'])
            comparisons.append(f"| {what} | {float(lr):g} | {a} | {b} | **{r['verdict']}** | "
                               f"{r['a_first']} of {n} | {r['b_first']} of {n} | {delay} |")
    return {'loss': fig, 'results_table': '\n'.join(rows),
            'comparisons': '\n'.join(comparisons)}


@check_group
def _check_tiny_run():
    """
    ## A tiny run of the four, and the rules on hand-made cases

    The four runs, 30 steps each on a 2-layer model: the loss must go down. Then the schedule,
    the targets, the shared initialization, and `describe()` and `compare()` on cases worked out
    by hand.
    """

    tiny = dict(CONFIG, n_layers=2, d_model=32, d_ff=64, batch=32, steps=30, warmup=10,
                seeds=[0], lrs=[3e-3])
    results = run_all(tiny)
    for name, (losses,) in results['losses']['0.003'].items():
        first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
        check(f'{name}: loss decreases', last < first, f'{first:.3f} -> {last:.3f}')
    check('warm-up: learning rate rises linearly, then stays',
          [learning_rate(s, 1.0, 4, True) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    tokens, targets = reverse_batch(torch.Generator().manual_seed(0), 2, 5, 9)
    check('reversal targets: target t is input T-1-t',
          torch.equal(targets, tokens[:, [4, 3, 2, 1, 0]]))
    # The same seed gives both arrangements the same initialization: Pre-LN's extra final
    # LayerNorm draws no random numbers
    torch.manual_seed(0)
    post = Transformer(16, 16, 2, 32, 4, 64, norm_first=False).state_dict()
    torch.manual_seed(0)
    pre = Transformer(16, 16, 2, 32, 4, 64, norm_first=True).state_dict()
    check('same seed: Post-LN and Pre-LN start from the same parameters',
          all(torch.equal(v, pre[k]) for k, v in post.items()))
    # 30 steps at 3.0, 30 at 0.05, 30 at 2.5, smoothed over 20 steps (worked out by hand: the
    # window ending at step 44 holds six 3.0s, mean 0.94 < 1.0; at step 50 only 0.05s; at step 80
    # only 2.5s, above 0.9 ln 16 = 2.495, which the window ending at 79 (mean 2.38) is not)
    d = describe([3.0] * 30 + [0.05] * 30 + [2.5] * 30, vocab=16)
    check('describe(): learns at 44, solved at 50, near chance again at 80, does not stay solved',
          (d['learns'], d['solved'], d['relapse'], d['stays_solved']) == (44, 50, 80, False) and
          abs(d['final'] - (20 * 0.05 + 30 * 2.5) / 50) < 1e-12, str(d))
    check('compare(): A first in every seed is "A first"; a split is "inconclusive"',
          compare([{'learns': 5}, {'learns': 9}], [{'learns': None}, {'learns': 12}])['verdict']
          == 'A first' and
          compare([{'learns': 5}, {'learns': 13}], [{'learns': 7}, {'learns': 12}])['verdict']
          == 'inconclusive')


# ![Training loss, median and range of five seeds, Post-LN against Pre-LN, with and without
# warm-up, at two peak learning rates](loss.svg)
#
# *Pre-LN learns before Post-LN in all five seeds in each of the four panels; without warm-up at
# the higher learning rate Post-LN does not learn at all* (lines: median of the five seeds; bands:
# smallest to largest).
#
# Each run, over the five seeds:
#
# {{ results_table }}
#
# Each like-for-like comparison (B later by: B's learning step minus A's, in the seeds where both
# learn):
#
# {{ comparisons }}
#
# **What the comparisons support.** Each statement compares runs that differ in one thing, over
# five seeds; the counts are in the tables above.
#
# * **The arrangement, with the schedule held fixed.** Pre-LN learns first in 5 of 5 seeds in all
#   four cases: both runs without warm-up and both with it, at both peak learning rates. Without
#   warm-up at $3 \cdot 10^{-3}$ Post-LN learns in 0 of 5 seeds and Pre-LN in 5 of 5.
# * **Warm-up, for Post-LN.** At $3 \cdot 10^{-3}$ it decides whether Post-LN learns at all: in 5
#   of 5 seeds with warm-up, in 0 of 5 without. At $10^{-3}$ the verdict is inconclusive, warm-up
#   first in 4 of 5 seeds. Post-LN's need for warm-up depends on the learning rate here, as it does
#   in Xiong et al.'s Figure 2.
# * **Warm-up, for Pre-LN.** It does not help: at $10^{-3}$ Pre-LN without warm-up learns first in
#   5 of 5 seeds, and at $3 \cdot 10^{-3}$ the verdict is inconclusive (3 seeds one way, 1 the
#   other, 1 tie).
# * **After learning.** No run comes back near chance: 0 of the 40. "Stays solved" is strict
#   (below 0.1 to the last step), and at $3 \cdot 10^{-3}$ it holds for Pre-LN without warm-up in 5
#   of 5 seeds, for Post-LN with warm-up in 0 of 5 and for Pre-LN with warm-up in 1 of 5: the loss
#   spikes after solving are not Post-LN's alone.
# * **The recipes of §4.2**, Pre-LN without warm-up against Post-LN with warm-up, differ in two
#   things, so we do not set them against each other. The like-for-like comparisons above say
#   that in this toy the arrangement made the difference, and that warm-up did not speed Pre-LN
#   up.
#
# With five seeds and one toy task, this shows the *direction* of Xiong et al.'s findings, not
# their cause.

# What the page's prose says: the verdict of each comparison at each peak learning rate, and the
# counts it quotes; `_test()` checks both against the rules above, on the saved runs
STATED = {('0.003', 'arrangement, both without warm-up'): ('A first', 5, 0),
          ('0.001', 'arrangement, both without warm-up'): ('A first', 5, 0),
          ('0.003', 'arrangement, both with warm-up'): ('A first', 5, 0),
          ('0.001', 'arrangement, both with warm-up'): ('A first', 5, 0),
          ('0.003', 'warm-up, Post-LN'): ('A first', 5, 0),
          ('0.001', 'warm-up, Post-LN'): ('inconclusive', 4, 1),
          ('0.003', 'warm-up, Pre-LN'): ('inconclusive', 3, 1),
          ('0.001', 'warm-up, Pre-LN'): ('B first', 0, 5)}
STATED_COUNTS = {('0.003', 'Post-LN, no warm-up', 'learns'): 0,
                 ('0.003', 'Pre-LN, no warm-up', 'learns'): 5,
                 ('0.003', 'Post-LN, warm-up', 'learns'): 5,
                 ('0.003', 'Pre-LN, no warm-up', 'stays_solved'): 5,
                 ('0.003', 'Post-LN, warm-up', 'stays_solved'): 0,
                 ('0.003', 'Pre-LN, warm-up', 'stays_solved'): 1}
# "No run comes back near chance"
STATED_COUNTS.update({(lr, name, 'relapse'): 0 for lr in ('0.003', '0.001') for name in RUNS})


@check_group
def _check_saved_runs():
    """
    ## The page's claims on the saved runs

    The saved results must load, and every verdict and count the prose states must be what the
    rules give on them.
    """

    cached = load_results()
    note('results/reverse.json',
         f"{cached['date'][:10]}, torch {cached['torch']}, {cached['wall_time_s']} s")
    c = cached['config']
    check('the runs the text describes: 5 seeds, 2 peak learning rates, 4 runs, 400 steps, '
          'batches of 32', (len(c['seeds']), len(c['lrs']), len(RUNS), c['steps'], c['batch'])
          == (5, 2, 4, 400, 32))
    check('every run has one loss per step, one curve per seed',
          all(len(per_seed) == len(c['seeds']) and all(len(ls) == c['steps'] for ls in per_seed)
              for runs in cached['losses'].values() for per_seed in runs.values()))
    read = read_all(cached)
    for what, a, b in COMPARISONS:
        for lr in cached['losses']:
            r = compare(read[lr, a], read[lr, b])
            stated = STATED[lr, what]
            check(f'lr {float(lr):g}, {what}: {stated[0]}, A first in {stated[1]}, '
                  f'B first in {stated[2]} of {r["n"]}',
                  (r['verdict'], r['a_first'], r['b_first']) == stated,
                  f"A first in {r['a_first']}, B first in {r['b_first']}")
    for (lr, name, key), count in STATED_COUNTS.items():
        ds = read[lr, name]
        measured = sum(bool(d[key]) if key == 'stays_solved' else d[key] is not None for d in ds)
        check(f'lr {float(lr):g}, {name}: {key} in {count} of {len(ds)} seeds', measured == count,
              str(measured))


# ## Exercises
#
# 1. **A warm-up of one step.** What does `learning_rate()` give with `warmup=1`? Which run of
#    the page is that?
# 2. **The chance loss.** Show that a model that predicts the uniform distribution over the 16
#    tokens has cross-entropy $\ln 16$ on any batch of the reversal task, whatever the targets.
# 3. **A stricter test.** With the rule "all seeds the same way", how many seeds are needed so
#    that a tie between A and B (each seed a fair coin) gives a verdict with probability below
#    1%? Count the outcomes.
# 4. **One spike.** A run's loss is 0.05 for 100 steps, then 3.0 for one step, then 0.05 again.
#    Is it "solved"? Does it "stay solved"? Is it "near chance again"?


@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: a warm-up of one step

    $\min(1, t / 1) = 1$ from step 1: the peak rate throughout, the same schedule as the runs
    without warm-up.
    """
    steps = range(400)
    check('warmup=1 gives the no-warm-up schedule at every step',
          all(learning_rate(s, 3e-3, 1, True) == learning_rate(s, 3e-3, 1, False) for s in steps))


@check_group(fold=True)
def _exercise_2():
    r"""
    ## Solution 2: the chance loss

    Uniform logits give every token probability $1/16$, so each position costs
    $-\ln(1/16) = \ln 16$, whichever token is the target.
    """
    tokens, targets = reverse_batch(torch.Generator().manual_seed(0), 32, 16, 16)
    logits = torch.zeros(32, 16, 16)  # (batch, positions, vocab): all tokens equally likely
    loss = F.cross_entropy(logits.reshape(-1, 16), targets.reshape(-1))
    check_close(f'uniform prediction: cross-entropy = ln 16 = {math.log(16):.4f}', loss,
                torch.tensor(math.log(16)))


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: a stricter test

    Of the $2^n$ equally likely outcomes of $n$ fair coins, 2 give a verdict (all A, all B):
    probability $2^{1-n}$. It is $1/16$ for five seeds, $1/64$ for seven and $1/128$ for eight,
    the first below 1%.
    """
    import itertools

    def p_verdict(n: int) -> float:
        outcomes = list(itertools.product('AB', repeat=n))
        return sum(len(set(o)) == 1 for o in outcomes) / len(outcomes)
    check('5 seeds: 1/16', p_verdict(5) == 1 / 16)
    needed = next(n for n in range(1, 20) if p_verdict(n) < 0.01)
    check('8 seeds are the fewest with a tie giving a verdict below 1%', needed == 8,
          f'{needed} seeds: {p_verdict(needed):.4f}')


@check_group(fold=True)
def _exercise_4():
    r"""
    ## Solution 4: one spike

    Solved at step 20, the first full window. The spike lifts each of the 20 windows that hold it
    to $(19 \cdot 0.05 + 3) / 20 \approx 0.20$: above 0.1, so it does not stay solved, but far
    below $0.9 \ln 16 \approx 2.50$, so it is not near chance again.
    """
    d = describe([0.05] * 100 + [3.0] + [0.05] * 100, vocab=16)
    check('solved at step 20, does not stay solved, never near chance again',
          (d['solved'], d['stays_solved'], d['relapse']) == (20, False, None), str(d))


def _test():
    """
    ## Run all the checks
    """
    _check_tiny_run()
    _check_saved_runs()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


# `python -m labml_nn_norm.transformer.experiment --run` trains all 40 runs on one CPU core
# (the time it took is under the first table) and writes `results/reverse.json` with the command,
# date, PyTorch version and wall time; the figure and the tables above are drawn from that file
# when the site is built. `python -m labml_nn_norm.transformer.experiment` runs the checks,
# with the tiny version of the training in `_test()`.

def _main():
    # `--run`: the full experiment (minutes), logged with labml; otherwise the tiny checks
    if '--run' not in sys.argv[1:]:
        _test()
        return
    from labml import logger
    from labml.logger import Text

    def log(name, losses, seconds):
        logger.log([(f'{name:22}', Text.key), (f' final loss {final_loss(losses):.3f}', Text.value),
                    (f'  {seconds:.1f} s', Text.meta)])

    torch.set_num_threads(1)
    results = run_all(CONFIG, log)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + '\n', encoding='utf-8')
    logger.log(f'wrote {RESULTS.name}: {results["wall_time_s"]} s')


if __name__ == '__main__':
    _main()


# ## Sources
#
# * Xiong et al.,
#   [On Layer Normalization in the Transformer Architecture](https://arxiv.org/abs/2002.04745),
#   ICML 2020: §3.2 and Figure 2 (IWSLT14 De-En, Adam with $\beta = (0.9, 0.98)$: BLEU 8.45
#   without warm-up against about 34 with it; with a 500-step warm-up, 31.16 at
#   $5 \cdot 10^{-4}$ and 2.77 at $10^{-3}$), §3.4 (the hypothesis, and the small fixed learning
#   rate that trains slowly), §4.2 (Pre-LN without warm-up, comparable and faster; RAdam).

# * The model and the arrangements: [Add & norm](index.md) and its sources.
