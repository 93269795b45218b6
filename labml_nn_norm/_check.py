"""
Helpers for the pages' `_test()` functions: each check asserts, then prints one coloured line,
so that a page's "Run it" box reads as a list of what was verified.
(Not a page: files whose name starts with one underscore are skipped by the generator.)

The lines are plain `print`s with ANSI colours, the codes labml's logger uses, which the site
turns into coloured spans and terminals and Jupyter show as colours. labml's logger itself is
not used here: labml 0.5.3 imports `display` from `IPython.core.display` when it runs inside
Jupyter, which IPython 9 removed, so every page's checks failed in a notebook (see
CONTRIBUTING.md, "Notebooks").
"""

import functools
from typing import Any, List, Optional, Tuple

import torch

# ANSI SGR codes: underline, bold, green, cyan, blue, orange (yellow)
HEADING, VALUE, SUCCESS, KEY, META, WARNING = '4', '1', '32', '36', '34', '33'


def _log(parts: List[Tuple[str, str]]):
    """One line of `(text, style)` parts, each coloured and reset."""
    print(''.join(f'\x1b[{style}m{text}\x1b[0m' for text, style in parts), flush=True)


def section(title: str):
    """Print a heading for a group of checks."""
    _log([(title, HEADING)])


def _max_abs_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    # Compare in float64; an empty tensor has no difference at all
    if actual.numel() == 0:
        return 0.0
    return (actual.detach().double() - expected.detach().double()).abs().max().item()


def check_close(name: str, actual: Any, expected: Any, *,
                rtol: Optional[float] = None, atol: Optional[float] = None, **kwargs):
    """
    `torch.testing.assert_close(actual, expected)` (tensors, or tuples/lists of them),
    then a line with the largest absolute difference.
    """
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, **kwargs)
    if isinstance(actual, torch.Tensor):
        pairs = [(actual, expected)]
    elif isinstance(actual, (list, tuple)):
        pairs = [(a, e) for a, e in zip(actual, expected) if isinstance(a, torch.Tensor)]
    else:
        pairs = []
    err = max((_max_abs_diff(a, e) for a, e in pairs), default=0.0)
    _log([('  ✓ ', SUCCESS), (name, KEY), (f'  max |Δ| = {err:.1e}', VALUE)])


def check(name: str, condition: bool, detail: str = ''):
    """Assert `condition`; `detail` (the measured numbers) is printed either way."""
    if not condition:
        raise AssertionError(f'{name} failed' + (f': {detail}' if detail else ''))
    parts = [('  ✓ ', SUCCESS), (name, KEY)]
    if detail:
        parts.append((f'  {detail}', VALUE))
    _log(parts)


def check_group(fn=None, *, fold: bool = False):
    """
    A group of checks: before the function runs, its heading is printed, taken from the first
    line of its docstring (the heading "## Against torch.nn.RMSNorm", code marks dropped),
    so the page's heading and the "Run it" output's heading are one text. `fold=True` marks a
    group the page folds out of its reading path (conformance: against torch across dtypes and
    flags, drop-in, errors); it runs and prints all the same. `@check_group` or
    `@check_group(fold=True)`.
    """
    def decorate(function):
        doc = (function.__doc__ or '').strip()
        if not doc:
            raise TypeError(f'@check_group: {function.__name__} has no docstring to take its '
                            f'heading from')
        title = doc.split('\n', 1)[0].lstrip('#').strip().replace('`', '')

        @functools.wraps(function)
        def run(*args, **kwargs):
            section(title)
            return function(*args, **kwargs)
        run.check_title, run.folded = title, fold
        return run
    return decorate(fn) if fn is not None else decorate


def note(name: str, detail: str):
    """A measured value, printed without a tick: it is information, not a check."""
    _log([('  · ', META), (name, KEY), (f'  {detail}', VALUE)])


def skipped(name: str, reason: str):
    """A check that did not run, said as such (never shown as a pass)."""
    _log([('  skipped: ', WARNING), (name, KEY), (f'  {reason}', VALUE)])


def check_raises(name: str, exc_type, fn, *args, match: str = '', **kwargs):
    """Assert that `fn(*args, **kwargs)` raises `exc_type` whose message contains `match`."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        if match not in str(e):
            raise AssertionError(f'{name}: message {str(e)!r} does not mention {match!r}') from e
        _log([('  ✓ ', SUCCESS), (name, KEY),
                    (f'  {type(e).__name__}: {e}', VALUE)])
        return
    raise AssertionError(f'{name}: expected {exc_type.__name__}, nothing was raised')


def run_side_by_side(ours: torch.nn.Module, ref: torch.nn.Module, x: torch.Tensor, *,
                     buffers: bool = False):
    """
    Run `ours` and the reference module on copies of `x`, backpropagate the same random `dy`
    through both, and assert equal outputs, input gradients, parameter gradients (and buffers).
    Returns both outputs.
    """
    x = x.detach().clone().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    y, y_ref = ours(x), ref(x_ref)
    dy = torch.randn_like(y)
    y.backward(dy)
    y_ref.backward(dy)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(x.grad, x_ref.grad)
    for p, p_ref in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad)
    if buffers:
        for b, b_ref in zip(ours.buffers(), ref.buffers()):
            torch.testing.assert_close(b, b_ref)
    return y, y_ref
