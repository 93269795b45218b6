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


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA GPU on this machine')
@needs_triton
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize('cols', [768, 1024, 4096, 16384])
def test_triton_on_gpu_large(dtype, cols):
    from labml_nn_norm.kernels.triton_layer_norm import check_against_torch
    check_against_torch((512, cols), cols, dtype, device='cuda')


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
