"""
The fused Add & Norm page's code: its Triton kernels through Triton's interpreter on the CPU (or
on a GPU when there is one), against the unfused PyTorch code, and its byte counts.
"""

import importlib.util
import math

import pytest
import torch

HAS_TRITON = importlib.util.find_spec('triton') is not None
needs_triton = pytest.mark.skipif(not HAS_TRITON,
                                  reason='triton is not installed (it is in the test extras)')
DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

CASES = [
    # shape, p, dtype
    ((1, 1), 0.0, torch.float32),            # a single element per row
    ((7, 33), 0.0, torch.float32),           # ragged: 33 columns in a 64-wide tile
    ((7, 33), 0.3, torch.float32),
    ((2, 3, 20), 0.5, torch.float32),        # leading dims; 6 rows over 4 programs
    ((9, 16), 0.1, torch.float32),           # a full tile, 9 rows over 4 programs
    ((5, 24), 0.2, torch.bfloat16),
    ((4, 40), 0.0, torch.float16),
    ((3, 12), 0.25, torch.float64),
]


@needs_triton
@pytest.mark.parametrize('prenorm', [True, False])
@pytest.mark.parametrize('shape,p,dtype', CASES,
                         ids=[f'{s}-p{p}-{d}'.replace('torch.', '') for s, p, d in CASES])
def test_matches_unfused_pytorch(shape, p, dtype, prenorm):
    """out, s, dx, dy, dγ, dβ against x + dropout(y) then F.layer_norm, with the same mask."""
    from labml_nn_norm.kernels.fused_add_norm import TOLERANCES, run_both
    tol = TOLERANCES.get(dtype, dict(atol=1e-2, rtol=1e-2))
    ours, ref = run_both(shape, p, dtype, prenorm=prenorm, device=DEVICE)
    torch.testing.assert_close(ours, ref, **tol)


@needs_triton
@pytest.mark.slow  # about 100 interpreted launches
@pytest.mark.parametrize('p', [0.0, 0.4])
def test_gradcheck_float64(p):
    from labml_nn_norm.kernels.fused_add_norm import gradcheck_both
    assert gradcheck_both((3, 5), p, device=DEVICE)


@needs_triton
@pytest.mark.parametrize('p', [0.1, 0.5, 0.9])
@pytest.mark.parametrize('seed', [0, 1, 2 ** 31 - 2])
def test_keep_fraction_in_binomial_interval(p, seed):
    from labml_nn_norm.kernels.fused_add_norm import keep_mask
    shape = (3, 8192)
    n = math.prod(shape)
    kept = int(keep_mask(shape, p, seed, DEVICE).sum())
    assert abs(kept - n * (1 - p)) <= 4 * math.sqrt(n * p * (1 - p))


@needs_triton
def test_mask_is_the_forwards_and_the_backwards():
    """Where s == x, y was dropped: that is keep_mask's False, and there dy is exactly 0."""
    from labml_nn_norm.kernels.fused_add_norm import fused_add_norm, keep_mask
    torch.manual_seed(0)
    x = torch.randn(3, 1000, device=DEVICE)
    y = (torch.randn(3, 1000, device=DEVICE) + 10).requires_grad_()
    w, b = torch.randn(1000, device=DEVICE), torch.randn(1000, device=DEVICE)
    out, s = fused_add_norm(x, y, w, b, p=0.3, seed=123)
    (out.sum() + s.sum()).backward()
    kept = keep_mask(x.shape, 0.3, 123, DEVICE)
    assert torch.equal(s != x, kept)
    assert bool((y.grad[~kept] == 0).all()) and bool((y.grad[kept] != 0).all())
    assert not torch.equal(kept, keep_mask(x.shape, 0.3, 124, DEVICE))


@needs_triton
def test_no_dropout_gradients_accumulate_separately():
    """With p = 0 one tensor is returned as both dx and dy: .grad of x and y must not alias."""
    from labml_nn_norm.kernels.fused_add_norm import fused_add_norm, reference_add_norm
    torch.manual_seed(0)
    x0, y0 = torch.randn(4, 24, device=DEVICE), torch.randn(4, 24, device=DEVICE)
    w, b = torch.randn(24, device=DEVICE), torch.randn(24, device=DEVICE)
    grads = []
    for fn in (lambda *a: fused_add_norm(*a), lambda *a: reference_add_norm(*a, p=0.0, keep=None)):
        x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
        for k in range(2):  # two backward passes accumulate into .grad
            out, s = fn(x, y, w, b)
            ((k + 1) * out.square().sum() + s.sum()).backward()
        grads.append((x.grad, y.grad))
    torch.testing.assert_close(grads[0], grads[1])


@needs_triton
def test_module_training_and_eval():
    from labml_nn_norm.kernels.fused_add_norm import FusedAddNorm, keep_mask, reference_add_norm
    torch.manual_seed(0)
    m = FusedAddNorm(32, p=0.3).to(DEVICE)
    assert [n for n, _ in m.named_parameters()] == ['weight', 'bias']
    x, y = torch.randn(2, 3, 32, device=DEVICE), torch.randn(2, 3, 32, device=DEVICE)
    out, s = m(x, y)
    ref = reference_add_norm(x, y, m.weight, m.bias, 0.3, keep_mask(x.shape, 0.3, m.last_seed,
                                                                     DEVICE))
    torch.testing.assert_close([out, s], list(ref))
    m.eval()
    torch.testing.assert_close(m(x, y)[1], x + y)


@needs_triton
def test_rejects_bad_inputs():
    from labml_nn_norm.kernels.fused_add_norm import fused_add_norm
    x, w = torch.randn(2, 4, device=DEVICE), torch.ones(4, device=DEVICE)
    with pytest.raises(ValueError, match='must match'):
        fused_add_norm(x, torch.randn(2, 5, device=DEVICE), w, w)
    with pytest.raises(ValueError, match='not in'):
        fused_add_norm(x, x, w, w, p=1.0)


@pytest.mark.parametrize('dtype,a', [(torch.bfloat16, 2), (torch.float32, 4)])
@pytest.mark.parametrize('rows,cols', [(8192, 768), (4, 10)])
def test_byte_counts(dtype, a, rows, cols):
    """Eager: 5a forward, 6a backward per element; with dropout 7a + 1 and 8a + 1 (bool mask)."""
    from labml_nn_norm.kernels.fused_add_norm import fused_bytes, unfused_bytes
    e = rows * cols
    assert unfused_bytes(rows, cols, dtype, 0.0) == {'forward': 5 * a * e, 'backward': 6 * a * e}
    assert unfused_bytes(rows, cols, dtype, 0.1) == {'forward': (7 * a + 1) * e,
                                                     'backward': (8 * a + 1) * e}
    assert fused_bytes(rows, cols, dtype, 0.0) == {'forward': 4 * a * e, 'backward': 4 * a * e}
    assert fused_bytes(rows, cols, dtype, 0.1) == {'forward': 4 * a * e, 'backward': 5 * a * e}


def test_bytes_table_and_figure():
    from labml_nn_norm.kernels.fused_add_norm import WIDTHS, bytes_table, figure_dataflow
    table = bytes_table()
    assert len(table.splitlines()) == 2 + 2 * len(WIDTHS)
    assert '| 4096 | bfloat16 | 1,024 | 576 | 1.78 | 1.38 |' in table
    assert figure_dataflow() != figure_dataflow(p=0.0)
    assert 'role="img"' in figure_dataflow()
