r"""
---
title: Post-LN vs Pre-LN, trained
summary: A synthetic sequence task trained three ways - Post-LN without warm-up, Post-LN with warm-up, Pre-LN without warm-up - on a CPU in a few minutes, with the measured loss curves.
---

# Post-LN vs Pre-LN, trained

[Add & norm](index.md) measured the gradients at initialization. This page trains the same
[`Transformer`](index.md) three ways and plots what happens, to check Xiong et al.'s practical
claim ([arXiv 2002.04745](https://arxiv.org/abs/2002.04745)): Post-LN needs a learning-rate
warm-up, Pre-LN does not.

* **Post-LN**, no warm-up: the full learning rate from step 1
* **Post-LN**, warm-up: the learning rate rises linearly from 0 over the first `warmup` steps
* **Pre-LN**, no warm-up

**The task**, with no downloaded data: reverse a random sequence. The input is $T$ random tokens,
the target at position $t$ is the input token at position $T - 1 - t$, and the loss is the
cross-entropy over all positions. Chance level is $\ln(\text{vocab})$. Solving it needs attention
(each position must find its mirror position), so it exercises the whole block.
For each seed, all three runs start from the same initialization of their parameters, see the
same batches, and use Adam with the same peak learning rate; only the arrangement and the
schedule differ. Each is run with two seeds.

![Training loss of the three runs](loss.svg)

{{ results_table }}

**What the cached run shows** (`_test()` asserts each point on `results/reverse.json`):
at this learning rate, Post-LN without warm-up never learns the task for either seed
(its loss stays above 2, close to the chance level $\ln 16 \approx 2.77$); the same model with 100 steps of warm-up solves the task;
Pre-LN without any warm-up solves it too, and is the fastest of the three (lower loss at step 100).
At a 3x lower learning rate ($10^{-3}$, one seed, not shipped) all three eventually solved it in our trial
runs, with both Post-LN runs (with and without warm-up) slower to start than Pre-LN: the failure depends on the learning rate, as Xiong et al. describe.

`python -m labml_nn_norm.transformer.experiment --run` trains all six runs (about two minutes on
one CPU core) and writes `results/reverse.json` with the command, date, PyTorch version and wall
time; the figure above is drawn from that file when the site is built.
`python -m labml_nn_norm.transformer.experiment` runs the tiny version in `_test()`.
"""

import json
import math
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import torch
import torch.nn.functional as F

from labml_nn_norm.transformer import Transformer

RESULTS = Path(__file__).resolve().parent / 'results' / 'reverse.json'

# The setting of the full run: deep enough and a learning rate high enough for Post-LN to need warm-up
CONFIG = dict(n_layers=6, d_model=64, n_heads=4, d_ff=256, vocab=16, seq_len=16, batch=64,
              steps=400, lr=3e-3, warmup=100, seeds=[0, 1])

RUNS = {'Post-LN, no warm-up': dict(norm_first=False, warmup=False),
        'Post-LN, warm-up': dict(norm_first=False, warmup=True),
        'Pre-LN, no warm-up': dict(norm_first=True, warmup=False)}


def reverse_batch(generator: torch.Generator, batch: int, seq_len: int, vocab: int):
    """
    ## The data

    Random tokens and their reversal, drawn from a seeded generator so every run sees the same batches.
    """
    tokens = torch.randint(vocab, (batch, seq_len), generator=generator)
    return tokens, tokens.flip(1)


def learning_rate(step: int, lr: float, warmup: int, use_warmup: bool) -> float:
    r"""
    ## The schedule

    Linear warm-up $\eta_t = \eta \cdot \min(1, t / t_\text{warmup})$, or the constant $\eta$.
    """
    return lr * min(1.0, (step + 1) / warmup) if use_warmup else lr


def train(norm_first: bool, warmup: bool, config: Dict, seed: int, verbose: bool = False) -> List[float]:
    """
    ## One run

    Returns the training loss of every step. With `verbose`, labml's `monit` and `tracker` print
    the progress and the loss (they need no experiment server: nothing is written or sent).
    """
    from labml import monit, tracker

    c = config
    torch.manual_seed(seed)
    model = Transformer(c['vocab'], c['seq_len'], c['n_layers'], c['d_model'], c['n_heads'], c['d_ff'],
                        norm_first=norm_first)
    optimizer = torch.optim.Adam(model.parameters(), lr=c['lr'], betas=(0.9, 0.98))
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for step in (monit.loop(c['steps']) if verbose else range(c['steps'])):
        # Set this step's learning rate, then one Adam step on a fresh batch
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, c['lr'], c['warmup'], warmup)
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

    `losses[run name]` is one list of per-step losses for every seed.
    """
    start = time.time()
    curves = {}
    for name, run in RUNS.items():
        curves[name] = []
        for seed in config['seeds']:
            t = time.time()
            curves[name].append(train(run['norm_first'], run['warmup'], config, seed, verbose=log is not None))
            if log:
                log(f'{name}, seed {seed}', curves[name][-1], time.time() - t)
    return {'command': 'python -m labml_nn_norm.transformer.experiment --run',
            'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
            'torch': torch.__version__, 'python': platform.python_version(),
            'threads': torch.get_num_threads(), 'wall_time_s': round(time.time() - start, 1),
            'config': config,
            'losses': {name: [[round(v, 5) for v in losses] for losses in per_seed] for name, per_seed in curves.items()}}


def load_results(path: Path = RESULTS) -> Dict:
    # The schema the page relies on; a missing key fails here rather than in the plot
    results = json.loads(path.read_text(encoding='utf-8'))
    for key in ('command', 'date', 'torch', 'wall_time_s', 'config', 'losses'):
        assert key in results, f'{path.name} has no {key!r}'
    assert set(results['losses']) == set(RUNS), f'{path.name} runs: {sorted(results["losses"])}'
    return results


def final_loss(losses: List[float], last: int = 50) -> float:
    # The mean of the last steps, so one noisy batch does not decide the comparison
    tail = losses[-last:]
    return sum(tail) / len(tail)


def _artifacts():
    """
    ## The figure, from the cached results
    """
    import matplotlib.pyplot as plt

    results = load_results()
    c = results['config']
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for (name, per_seed), color in zip(results['losses'].items(), ('#d62728', '#ff7f0e', '#1f77b4')):
        for i, losses in enumerate(per_seed):
            ax.plot(range(1, len(losses) + 1), losses, color=color, lw=1.0, alpha=0.9 if i == 0 else 0.45,
                    ls='-' if i == 0 else '--', label=name if i == 0 else None)
    ax.axhline(math.log(c['vocab']), color='gray', ls=':', lw=1, label='chance, ln(vocab)')
    ax.set_xlabel('step')
    ax.set_ylabel('training loss (cross-entropy)')
    ax.set_title(f"Reverse {c['seq_len']} tokens, {c['n_layers']} layers, Adam lr={c['lr']}, "
                 f"warm-up {c['warmup']} steps; seeds {c['seeds']} (solid, dashed)", fontsize=9)
    ax.set_ylim(0, math.log(c['vocab']) * 1.3)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    seeds = c['seeds']
    rows = ['| run | ' + ' | '.join(f'seed {s}: loss at step 100 / 200 / last 50 steps' for s in seeds) + ' |',
            '| --- ' * (len(seeds) + 1) + '|']
    for name, per_seed in results['losses'].items():
        rows.append(f'| {name} | ' + ' | '.join(
            f'{sum(l[90:110]) / 20:.2f} / {sum(l[190:210]) / 20:.2f} / {final_loss(l):.3f}' for l in per_seed) + ' |')
    rows.append(f"\nMeasured on {results['date'][:10]} with PyTorch {results['torch']}, "
                f"{results['threads']} thread(s): {results['wall_time_s']} s for all {sum(len(v) for v in results['losses'].values())} runs.")
    return {'loss': fig, 'results_table': '\n'.join(rows)}


def _test():
    """
    ## A tiny version

    Three runs of 30 steps on a 2-layer model: the loss must go down, and the cached results
    of the full run must load with the schema the figure needs.
    """
    from labml_nn_norm._check import check, section

    section('Tiny training run: 2 layers, 30 steps')
    tiny = dict(CONFIG, n_layers=2, d_model=32, d_ff=64, batch=32, steps=30, warmup=10, seeds=[0])
    results = run_all(tiny)
    for name, (losses,) in results['losses'].items():
        first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
        check(f'{name}: loss decreases', last < first, f'{first:.3f} -> {last:.3f}')
    check('warm-up: learning rate rises linearly, then stays',
          [learning_rate(s, 1.0, 4, True) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    check('reversal targets', torch.equal(reverse_batch(torch.Generator().manual_seed(0), 2, 5, 9)[1][:, 0],
                                          reverse_batch(torch.Generator().manual_seed(0), 2, 5, 9)[0][:, 4]))
    #
    section('Cached results of the full run')
    cached = load_results()
    check('results/reverse.json loads', True,
          f"{cached['date'][:10]}, torch {cached['torch']}, {cached['wall_time_s']} s")
    check('every run has one loss per step',
          all(len(l) == cached['config']['steps'] for v in cached['losses'].values() for l in v))
    check('one curve per seed', all(len(v) == len(cached['config']['seeds']) for v in cached['losses'].values()))
    # The claims the page makes about the cached run
    last = {name: [final_loss(l) for l in per_seed] for name, per_seed in cached['losses'].items()}
    at_100 = {name: [sum(l[90:110]) / 20 for l in per_seed] for name, per_seed in cached['losses'].items()}
    check('Post-LN, no warm-up: stuck near chance (> 2.0) for every seed', min(last['Post-LN, no warm-up']) > 2.0,
          str([round(v, 3) for v in last['Post-LN, no warm-up']]))
    check('Post-LN with warm-up and Pre-LN: solved (< 0.5) for every seed',
          max(last['Post-LN, warm-up'] + last['Pre-LN, no warm-up']) < 0.5,
          str([round(v, 3) for v in last['Post-LN, warm-up'] + last['Pre-LN, no warm-up']]))
    check('Pre-LN: lowest loss at step 100', max(at_100['Pre-LN, no warm-up']) < min(at_100['Post-LN, warm-up']),
          f"{[round(v, 2) for v in at_100['Pre-LN, no warm-up']]} vs {[round(v, 2) for v in at_100['Post-LN, warm-up']]}")


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
