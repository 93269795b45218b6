"""
The fast-kernel page's code: the Triton kernels through Triton's interpreter on the CPU (or on a
GPU when there is one), and `torch.compile` of the plain LayerNorm.
"""

import importlib.util

import pytest
import torch
import torch.nn.functional as F

HAS_TRITON = importlib.util.find_spec('triton') is not None
needs_triton = pytest.mark.skipif(not HAS_TRITON,
                                  reason='triton is not installed (it is in the test extras)')
DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

CASES = [
    # shape, normalized_shape, dtype, max_block
    ((1, 1), 1, torch.float32, 64),            # a single element per row
    ((7, 33), 33, torch.float32, 64),          # ragged: 33 columns in a 64-wide tile
    ((4, 130), 130, torch.float32, 32),        # 5 tiles, the last one holding 2 columns
    ((2, 3, 4, 5), (4, 5), torch.float32, 8),  # several leading dims, 20 columns in 3 tiles
    ((9, 48), 48, torch.float32, 16),          # 9 rows over 2 programs: uneven partial sums
    ((6, 40), 40, torch.bfloat16, 64),
    ((6, 40), 40, torch.bfloat16, 16),
    ((5, 24), 24, torch.float16, 8),
]


@needs_triton
@pytest.mark.parametrize('shape,ns,dtype,block', CASES, ids=[f'{s}-{d}-b{b}'.replace('torch.', '')
                                                             for s, _, d, b in CASES])
def test_triton_matches_f_layer_norm(shape, ns, dtype, block):
    from labml_nn_norm.kernels.triton_layer_norm import check_against_torch
    check_against_torch(shape, ns, dtype, max_block=block, device=DEVICE)


@needs_triton
@pytest.mark.parametrize('affine,bias', [(False, False), (True, False)])
def test_triton_without_affine_or_bias(affine, bias):
    from labml_nn_norm.kernels.triton_layer_norm import check_against_torch
    check_against_torch((5, 70), 70, affine=affine, bias=bias, max_block=32, device=DEVICE)


@needs_triton
def test_triton_rejects_bad_shapes():
    from labml_nn_norm.kernels.triton_layer_norm import triton_layer_norm
    with pytest.raises(ValueError, match=r'weight of shape \[3\]'):
        triton_layer_norm(torch.randn(2, 4, device=DEVICE), 4, torch.ones(3, device=DEVICE))


@needs_triton
@pytest.mark.parametrize('rows,block', [(9, 64), (40, 64), (40, 8), (3, 8)])
def test_triton_partial_buffers_one_row_per_program_written_once(rows, block):
    """Partial dγ, dβ: (programs, H) float32 whatever the rows; NaN-filled, results unchanged."""
    from labml_nn_norm.kernels.triton_layer_norm import _multiprocessors, partial_buffer_shapes
    programs = min(rows, 4 * _multiprocessors(torch.device(DEVICE)))
    shapes, _ = partial_buffer_shapes((rows, 24), 24, block, DEVICE, fill=float('nan'))
    assert shapes == [((programs, 24), torch.float32)] * 2


@needs_triton
@pytest.mark.parametrize('first_row,stride', [(2 ** 20, 2 ** 11), (2 ** 19 + 3, 4096), (7, 33)])
def test_triton_row_offsets_are_int64(first_row, stride):
    """The offset of a row's start, without allocating 2**31 elements."""
    from labml_nn_norm.kernels.triton_layer_norm import row_offsets
    ours, int32 = row_offsets(first_row, stride, DEVICE)
    assert ours == first_row * stride
    wrapped = (first_row * stride + 2 ** 31) % 2 ** 32 - 2 ** 31
    assert int32 == wrapped


@needs_triton
@pytest.mark.parametrize('block', [64, 16])
@pytest.mark.parametrize('needs', ['x', 'weight', 'bias', 'weight+bias', 'x+bias'])
def test_triton_backward_only_needed_grads(block, needs):
    from labml_nn_norm.kernels.triton_layer_norm import triton_layer_norm
    torch.manual_seed(0)
    x, w, b = torch.randn(5, 40) + 2, torch.randn(40), torch.randn(40)
    dy = torch.randn(5, 40)
    grads = []
    for fn in (lambda *a: triton_layer_norm(*a, max_block=block), F.layer_norm):
        ts = [t.clone().to(DEVICE).requires_grad_(name in needs)
              for t, name in zip((x, w, b), ('x', 'weight', 'bias'))]
        fn(ts[0], (40,), ts[1], ts[2]).backward(dy.to(DEVICE))
        grads.append([t.grad for t in ts])
    for ours, ref in zip(*grads):
        assert (ours is None) == (ref is None)
        if ref is not None:
            torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA GPU on this machine')
@needs_triton
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize('cols', [768, 1024, 4096, 16384])
def test_triton_on_gpu_large(dtype, cols):
    from labml_nn_norm.kernels.triton_layer_norm import check_against_torch
    check_against_torch((512, cols), cols, dtype, device='cuda')


@pytest.mark.slow  # torch.compile: seconds per case
def test_compiled_plain_layer_norm_matches():
    """torch.compile of the page's plain LayerNorm: same outputs and gradients as F.layer_norm."""
    from labml_nn_norm.layer_norm import layer_norm
    compiled = torch.compile(layer_norm, dynamic=False)
    x = (torch.randn(64, 96) * 2 + 5).requires_grad_()
    w, b = torch.randn(96, requires_grad=True), torch.randn(96, requires_grad=True)
    y = compiled(x, (96,), w, b)
    xr, wr, br = (t.detach().clone().requires_grad_() for t in (x, w, b))
    y_ref = F.layer_norm(xr, (96,), wr, br)
    torch.testing.assert_close(y, y_ref)
    dy = torch.randn_like(y)
    y.backward(dy)
    y_ref.backward(dy)
    torch.testing.assert_close([x.grad, w.grad, b.grad], [xr.grad, wr.grad, br.grad])


@pytest.mark.slow  # torch.compile: seconds per case
def test_inductor_cpu_forward_is_one_kernel_with_three_row_passes():
    """
    The kernels page says: for a 64 × 96 float32 input, Inductor (CPU) turns our plain forward into
    one C++ kernel, parallel over rows, that makes three passes over each row (each loading x).
    """
    import re

    from torch._inductor.utils import run_and_get_code

    from labml_nn_norm.layer_norm import layer_norm
    compiled = torch.compile(layer_norm, dynamic=False)
    x, w, b = torch.randn(64, 96) + 3, torch.randn(96), torch.randn(96)
    with torch.no_grad():
        y, codes = run_and_get_code(compiled, x, (96,), w, b)
    torch.testing.assert_close(y, F.layer_norm(x, (96,), w, b))
    code = '\n'.join(codes)
    kernels = re.findall(r'^(cpp_fused_\w+) = async_compile', code, re.M)
    assert len(kernels) == 1, kernels
    source = code[code.index(kernels[0]):]
    source = source[:source.index("''')")]
    # One loop over the 64 rows, three inner loops over a row's 96 columns, each loading x (in_ptr0)
    assert source.count('for(int64_t x0=') == 1
    assert source.count('for(int64_t x1=') == 3
    assert source.count('loadu(in_ptr0') == 3


# ---- compiled_layer_norm: a compiled forward and a compiled hand-derived backward ----------

FUSED_CASES = [(shape, ns, dtype) for shape, ns, dtype, _ in CASES] + [
    ((0, 96), 96, torch.float32),            # an empty batch
    ((3, 0, 16), (16,), torch.float32),      # empty in a middle dimension
    ((33, 40), 40, torch.float64),
]
# Beyond what rounding the result once to the dtype allows
SLACK = {torch.float32: 1e-5, torch.float64: 1e-10, torch.bfloat16: 2e-2, torch.float16: 2e-3}


def _grads(f, x, ns, w, b, dy):
    leaves = [t.clone().requires_grad_() for t in (x, w, b) if t is not None]
    it = iter(leaves)
    xs = next(it)
    ws = next(it) if w is not None else None
    bs = next(it) if b is not None else None
    y = f(xs, ns, ws, bs)
    return [y.detach()] + list(torch.autograd.grad(y, leaves, dy))


@pytest.mark.slow  # torch.compile: seconds per case
@pytest.mark.parametrize('shape,ns,dtype', FUSED_CASES,
                         ids=[f'{s}-{d}'.replace('torch.', '') for s, _, d in FUSED_CASES])
@pytest.mark.parametrize('affine,bias', [(True, True), (True, False), (False, False)])
def test_compiled_layer_norm_matches_f_layer_norm(shape, ns, dtype, affine, bias):
    """Output, dx, dweight and dbias: no further from float64 than F.layer_norm is, plus slack."""
    from labml_nn_norm.kernels import compiled_layer_norm
    torch.manual_seed(0)
    nshape = (ns,) if isinstance(ns, int) else ns
    x64 = torch.randn(shape, dtype=torch.float64) * 2 + 1
    w64 = torch.randn(nshape, dtype=torch.float64) if affine else None
    b64 = torch.randn(nshape, dtype=torch.float64) if bias and affine else None
    dy64 = torch.randn(shape, dtype=torch.float64)
    x, w, b, dy = [t.to(dtype) if t is not None else None for t in (x64, w64, b64, dy64)]
    # The exact answer for the rounded inputs: F.layer_norm in float64
    x_, w_, b_, dy_ = [t.double() if t is not None else None for t in (x, w, b, dy)]
    exact = _grads(F.layer_norm, x_, nshape, w_, b_, dy_)
    ours = _grads(compiled_layer_norm, x, nshape, w, b, dy)
    torch_ = _grads(F.layer_norm, x, nshape, w, b, dy)
    assert len(ours) == len(torch_) == len(exact)
    for name, a, t, e in zip(('output', 'dx', 'dweight', 'dbias'), ours, torch_, exact):
        assert a.shape == t.shape and a.dtype == t.dtype, (name, a.shape, a.dtype, t.dtype)
        if a.numel() == 0:
            continue
        scale = e.abs().max().item() or 1.0
        ours_err = (a.double() - e).abs().max().item()
        torch_err = (t.double() - e).abs().max().item()
        assert ours_err <= 2 * torch_err + SLACK[dtype] * scale, (name, ours_err, torch_err)


@pytest.mark.slow  # torch.compile: seconds per case
def test_compiled_layer_norm_gradcheck_and_errors():
    from labml_nn_norm.kernels import compiled_layer_norm
    args = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in ((5, 3, 8), 8, 8)]
    assert torch.autograd.gradcheck(lambda *a: compiled_layer_norm(a[0], 8, *a[1:]), args)
    with pytest.raises(ValueError, match=r'expected input with shape \[\*, 4\]'):
        compiled_layer_norm(torch.randn(2, 8), 4)
    with pytest.raises(ValueError, match=r'weight of shape \[3\]'):
        compiled_layer_norm(torch.randn(2, 8), 8, torch.ones(3))
