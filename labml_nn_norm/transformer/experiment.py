r"""
---
title: Post-LN vs Pre-LN, trained
summary: A synthetic sequence task trained three ways - Post-LN without warm-up, Post-LN with
  warm-up, Pre-LN without warm-up - at two learning rates, on a CPU in minutes, with what the
  saved loss curves show run by run.
section: LayerNorm in the Transformer
order: 22
---

# Post-LN vs Pre-LN, trained

[Add & norm](index.md) measured the gradients at initialization. This page trains the same
[`Transformer`](index.md) three ways and reports what happens. Xiong et al.
([arXiv 2002.04745](https://arxiv.org/abs/2002.04745)) found on IWSLT14 De-En that Post-LN
trained with Adam reaches a BLEU of only 8.45 without warm-up against about 34 with it, and that
the result is sensitive to the warm-up length and the learning rate (§3.2, Figure 2); and that
Pre-LN without warm-up reaches comparable results faster (§4.2). Our toy task is far smaller,
so it can show whether the same *kind* of behaviour appears, not confirm their numbers.

* **Post-LN**, no warm-up: the full learning rate from step 1
* **Post-LN**, warm-up: the learning rate rises linearly from 0 over the first `warmup` steps
* **Pre-LN**, no warm-up

**The task**, with no downloaded data: reverse a random sequence. The input is $T$ random tokens,
the target at position $t$ is the input token at position $T - 1 - t$, and the loss is the
cross-entropy over all positions. Chance level is $\ln(\text{vocab})$. Solving it needs attention
(each position must find its mirror position), so it exercises the whole block.
For each seed, all three runs start from the same initialization of their parameters, see the
same batches, and use Adam with the same peak learning rate; only the arrangement and the
schedule differ. Each is run with two seeds, at two peak learning rates.

![Training loss of the three runs at two learning rates](loss.svg)

{{ results_table }}

**What the saved runs show**, run by run (computed from `results/reverse.json` when the page is
built: "learns" is the first step at which the mean loss of 20 steps falls below 1.0,
"solved" below 0.1, "back at chance" above 2.0 after having learned):

{{ findings }}

In short (each sentence is asserted by `_test()`): at the higher learning rate, Post-LN without
warm-up never leaves chance for either seed; with warm-up it learns the task, but one of the two
runs later falls back to chance, so warm-up alone did not make Post-LN stable here; Pre-LN without
warm-up learns first and stays solved. At the 3× lower learning rate, all six runs solve the
task, Pre-LN still first: without warm-up, Post-LN's failure here depends on the learning rate.
That matches the *direction* of Xiong et al.'s findings; with two seeds and one toy task it is an
illustration, not evidence of the cause.

`python -m labml_nn_norm.transformer.experiment --run` trains all twelve runs on one CPU core
(the time it took is under the table) and writes `results/reverse.json` with the command, date,
PyTorch version and wall time; the figure above is drawn from that file when the site is built.
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

# The setting of the full run: deep enough, and a peak learning rate high enough, for Post-LN to
# need warm-up; and a 3x lower peak learning rate to see how that changes
CONFIG = dict(n_layers=6, d_model=64, n_heads=4, d_ff=256, vocab=16, seq_len=16, batch=64,
              steps=400, lrs=[3e-3, 1e-3], warmup=100, seeds=[0, 1])

RUNS = {'Post-LN, no warm-up': dict(norm_first=False, warmup=False),
        'Post-LN, warm-up': dict(norm_first=False, warmup=True),
        'Pre-LN, no warm-up': dict(norm_first=True, warmup=False)}


def reverse_batch(generator: torch.Generator, batch: int, seq_len: int, vocab: int):
    """
    ## The data

    Random tokens and their reversal, drawn from a seeded generator so every run sees the same
    batches.
    """
    tokens = torch.randint(vocab, (batch, seq_len), generator=generator)
    return tokens, tokens.flip(1)


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
    return {'command': 'python -m labml_nn_norm.transformer.experiment --run',
            'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
            'torch': torch.__version__, 'python': platform.python_version(),
            'threads': torch.get_num_threads(), 'wall_time_s': round(time.time() - start, 1),
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


def window_mean(losses: List[float], start: int, width: int = 20) -> float:
    return sum(losses[start:start + width]) / width


def describe(losses: List[float], width: int = 20) -> dict:
    """
    ## Reading one curve

    The first step at which the mean of `width` steps falls below 1.0 (learns) and below 0.1
    (solved), the first step after that at which it is back above 2.0 (back at chance), and the
    mean of the last 50 steps.
    """
    means = [window_mean(losses, t, width) for t in range(len(losses) - width + 1)]
    learns = next((t for t, m in enumerate(means) if m < 1.0), None)
    solved = next((t for t, m in enumerate(means) if m < 0.1), None)
    relapse = None if learns is None else next(
        (t for t, m in enumerate(means) if t > learns and m > 2.0), None)
    return {'learns': learns, 'solved': solved, 'relapse': relapse, 'final': final_loss(losses)}


def _artifacts():
    """
    ## The figure, the table and the findings, from the saved results
    """
    import matplotlib.pyplot as plt

    results = load_results()
    c = results['config']
    fig, axes = plt.subplots(1, len(results['losses']), figsize=(7.2, 3.4), sharey=True)
    for ax, (lr, runs) in zip(axes, results['losses'].items()):
        for (name, per_seed), color in zip(runs.items(), ('#d62728', '#ff7f0e', '#1f77b4')):
            for i, losses in enumerate(per_seed):
                ax.plot(range(1, len(losses) + 1), losses, color=color, lw=1.0,
                        alpha=0.9 if i == 0 else 0.5, ls='-' if i == 0 else '--',
                        label=name if i == 0 else None)
        ax.axhline(math.log(c['vocab']), color='gray', ls=':', lw=1, label='chance, ln(vocab)')
        ax.set_title(f'Adam, peak lr = {float(lr):g}', fontsize=9)
        ax.set_xlabel('step')
        ax.set_ylim(0, math.log(c['vocab']) * 1.3)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('training loss (cross-entropy)')
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Reverse {c['seq_len']} tokens, {c['n_layers']} layers, "
                 f"warm-up {c['warmup']} steps; seeds {c['seeds']} (solid, dashed)", fontsize=9)
    fig.tight_layout()
    #
    seeds = c['seeds']
    rows = ['| peak lr | run | '
            + ' | '.join(f'seed {s}: loss at step 100 / 200 / last 50 steps' for s in seeds)
            + ' |',
            '| --- ' * (len(seeds) + 2) + '|']
    findings = []
    for lr, runs in results['losses'].items():
        for name, per_seed in runs.items():
            cells = ' | '.join(f'{window_mean(losses, 90):.2f} / {window_mean(losses, 190):.2f} / '
                               f'{final_loss(losses):.3f}' for losses in per_seed)
            rows.append(f'| {float(lr):g} | {name} | {cells} |')
            said = []
            for seed, losses in zip(seeds, per_seed):
                d = describe(losses)
                if d['learns'] is None:
                    text = f"never learns (last 50 steps: {d['final']:.2f})"
                else:
                    text = f"learns at step {d['learns']}"
                    if d['solved'] is not None:
                        text += f", solved at step {d['solved']}"

                    if d['relapse'] is not None:
                        text += f", **back at chance at step {d['relapse']}**"
                    text += f" (last 50 steps: {d['final']:.3f})"
                said.append(f'seed {seed} {text}')
            findings.append(f'* lr {float(lr):g}, {name}: ' + '; '.join(said) + '.')
    n_runs = sum(len(v) for runs in results['losses'].values() for v in runs.values())
    rows.append(f"\nMeasured on {results['date'][:10]} with PyTorch {results['torch']}, "
                f"{results['threads']} thread(s): {results['wall_time_s']} s for all "
                f"{n_runs} runs.")
    return {'loss': fig, 'results_table': '\n'.join(rows), 'findings': '\n'.join(findings)}


def _check_tiny_run():
    """
    ## A tiny version

    Three runs of 30 steps on a 2-layer model: the loss must go down. Then the schedule, the
    targets and `describe()` on curves worked out by hand.
    """
    from labml_nn_norm._check import check, section

    section('Tiny training run: 2 layers, 30 steps')
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
    # 30 steps at 3.0, 30 at 0.05, 30 at 2.5, read in windows of 20 steps (worked out by hand:
    # a window starting at 24 holds six 3.0s and has mean 0.94; at 30, only 0.05s; at 56,
    # sixteen 2.5s)
    d = describe([3.0] * 30 + [0.05] * 30 + [2.5] * 30)
    check('describe(): learns at 24, solved at 30, back at chance at 56',
          (d['learns'], d['solved'], d['relapse']) == (24, 30, 56) and
          abs(d['final'] - (20 * 0.05 + 30 * 2.5) / 50) < 1e-12, str(d))


def _check_saved_runs():
    """
    ## The page's claims on the saved runs

    The saved results of the full run must load, and every sentence of the page's summary must
    hold on them.
    """
    from labml_nn_norm._check import check, note, section

    section('Saved results of the full run')
    cached = load_results()
    note('results/reverse.json',
         f"{cached['date'][:10]}, torch {cached['torch']}, {cached['wall_time_s']} s")
    c = cached['config']
    check('every run has one loss per step, one curve per seed',
          all(len(per_seed) == len(c['seeds']) and all(len(ls) == c['steps'] for ls in per_seed)
              for runs in cached['losses'].values() for per_seed in runs.values()))
    high, low = (cached['losses'][str(lr)] for lr in c['lrs'])
    d_high = {name: [describe(ls) for ls in per_seed] for name, per_seed in high.items()}
    d_low = {name: [describe(ls) for ls in per_seed] for name, per_seed in low.items()}
    #
    # The summary, sentence by sentence
    check('high lr, Post-LN without warm-up never learns (every seed)',
          all(d['learns'] is None for d in d_high['Post-LN, no warm-up']))
    check('high lr, Post-LN with warm-up learns (every seed)',
          all(d['learns'] is not None for d in d_high['Post-LN, warm-up']))
    check('high lr, exactly one Post-LN warm-up run falls back to chance',
          sum(d['relapse'] is not None for d in d_high['Post-LN, warm-up']) == 1,
          str([d['relapse'] for d in d_high['Post-LN, warm-up']]))
    check('high lr, Pre-LN learns first and stays solved (every seed)',
          all(p['learns'] is not None and p['relapse'] is None and p['final'] < 0.1 and
              all(q['learns'] is None or p['learns'] < q['learns']
                  for q in d_high['Post-LN, warm-up'])
              for p in d_high['Pre-LN, no warm-up']),
          str([d['learns'] for d in d_high['Pre-LN, no warm-up']]))
    check('the lower learning rate is 3x lower', abs(c['lrs'][0] / c['lrs'][1] - 3) < 1e-9,
          str(c['lrs']))
    check('low lr: all six runs solved (< 0.1 over the last 50 steps)',
          all(d['final'] < 0.1 for ds in d_low.values() for d in ds))
    post_ln = ('Post-LN, no warm-up', 'Post-LN, warm-up')
    check('low lr: Pre-LN learns first (every seed)',
          max(d['learns'] for d in d_low['Pre-LN, no warm-up']) <
          min(d['learns'] for name in post_ln for d in d_low[name]))


def _test():
    """
    ## Run all the checks
    """
    _check_tiny_run()
    _check_saved_runs()


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
