"""
Property tests: `LayerNorm`, `layer_norm` and `BatchNorm` against PyTorch over random shapes,
`normalized_shape` lengths, `eps`, affine/bias flags and dtypes, drawn by Hypothesis.
"""

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from labml_nn_norm.batch_norm import BatchNorm
from labml_nn_norm.layer_norm import LayerNorm, layer_norm

DTYPES = st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16])
EPS = st.sampled_from([1e-5, 1e-6, 1e-3, 0.1])
# Derandomized: CI runs the same examples every time, so a red run can be reproduced
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def _tolerance(dtype):
    # PyTorch's own defaults for each dtype, plus one unit in the last place for half precision
    return {torch.float16: dict(atol=2e-3, rtol=1e-3),
            torch.bfloat16: dict(atol=1.6e-2, rtol=1e-2)}.get(dtype, {})


def _input(shape, dtype, seed, offset):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * 3 + offset).to(dtype)


@SETTINGS
@given(lead=st.lists(st.integers(0, 4), min_size=0, max_size=2),
       norm=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       as_int=st.booleans(), eps=EPS,
       flags=st.sampled_from([(True, True), (True, False), (False, False)]),
       dtype=DTYPES, seed=st.integers(0, 2 ** 16), offset=st.sampled_from([0.0, 10.0, -100.0]))
def test_layer_norm_module_matches_torch(lead, norm, as_int, eps, flags, dtype, seed, offset):
    affine, bias = flags
    normalized_shape = norm[-1] if as_int else tuple(norm)
    shape = tuple(lead) + ((norm[-1],) if as_int else tuple(norm))
    ours = LayerNorm(normalized_shape, eps, affine, bias, dtype=dtype)
    ref = nn.LayerNorm(normalized_shape, eps, affine, bias, dtype=dtype)
    if affine:
        with torch.no_grad():
            for p in ref.parameters():
                p.copy_(_input(p.shape, dtype, seed + 1, 0.5))
    ours.load_state_dict(ref.state_dict())
    x = _input(shape, dtype, seed, offset)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = ours(x1), ref(x2)
    # Both implementations round x - mean: an input near 100 carries errors of ulp(100) ~ 8e-6
    # in float32, which normalization divides by the row's spread; a row of 4 values can have a
    # small one
    dims = tuple(range(-len(ours.normalized_shape), 0))
    spread = (x.double().std(dim=dims, unbiased=False).add(eps ** 0.5).min().item() if x.numel()
              else 1.0)
    peak = x.abs().max().item() if x.numel() else 0.0
    conditioning = 8 * torch.finfo(dtype).eps * peak / spread
    tol = _tolerance(dtype)
    torch.testing.assert_close(y1, y2, atol=max(tol.get('atol', 1e-5), conditioning),
                               rtol=tol.get('rtol', 1.3e-6))
    if dtype in (torch.float32, torch.float64) and y1.numel():
        dy = _input(y1.shape, dtype, seed + 2, 0.0)
        y1.backward(dy)
        y2.backward(dy)
        # A row of one element has zero variance: x_hat and the input gradient are exactly 0 in
        # real arithmetic, and rounding noise is amplified by 1/sqrt(eps) (PyTorch's backward
        # recomputes x_hat from the saved mean and gives weight.grad ~1e-3 there; ours gives 0)
        degenerate = torch.Size(norm[-1:] if as_int else norm).numel() == 1
        noise = (4 * torch.finfo(dtype).eps * x.abs().max().item() / eps ** 0.5
                 * dy.abs().max().item())
        atol = max(noise, 1e-4) if degenerate else 1e-4
        torch.testing.assert_close(x1.grad, x2.grad, atol=atol, rtol=1e-4)
        for p1, p2 in zip(ours.parameters(), ref.parameters()):
            torch.testing.assert_close(p1.grad, p2.grad, atol=atol, rtol=1e-4)


@SETTINGS
@given(rows=st.integers(0, 5), cols=st.integers(1, 40), eps=EPS, dtype=DTYPES,
       seed=st.integers(0, 2 ** 16), with_weight=st.booleans(), with_bias=st.booleans())
def test_layer_norm_function_matches_torch(rows, cols, eps, dtype, seed, with_weight, with_bias):
    x = _input((rows, cols), dtype, seed, 5.0)
    w = _input((cols,), dtype, seed + 1, 1.0) if with_weight else None
    b = _input((cols,), dtype, seed + 2, 0.0) if with_bias else None
    torch.testing.assert_close(layer_norm(x, [cols], w, b, eps), F.layer_norm(x, [cols], w, b, eps),
                               **_tolerance(dtype))


@SETTINGS
@given(dims=st.integers(2, 5), n=st.integers(2, 5), c=st.integers(1, 5), spatial=st.integers(1, 3),
       eps=EPS, momentum=st.sampled_from([0.1, 0.5, None]), affine=st.booleans(),
       bias=st.booleans(),
       track=st.booleans(), dtype=st.sampled_from([torch.float32, torch.float64]),
       seed=st.integers(0, 2 ** 16), steps=st.integers(1, 3))
def test_batch_norm_matches_torch(dims, n, c, spatial, eps, momentum, affine, bias, track, dtype,
                                  seed, steps):
    cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[dims]
    ours = BatchNorm(c, eps, momentum, affine, track, dtype=dtype, bias=bias)
    ref = cls(c, eps, momentum, affine, track, dtype=dtype, bias=bias)
    ours.load_state_dict(ref.state_dict())
    shape = (n, c) + (spatial,) * (dims - 2)
    for step in range(steps):
        x = _input(shape, dtype, seed + step, 3.0)
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        y1, y2 = ours(x1), ref(x2)
        torch.testing.assert_close(y1, y2)
        y1.backward(torch.ones_like(y1) * x)
        y2.backward(torch.ones_like(y2) * x)
        torch.testing.assert_close(x1.grad, x2.grad, atol=1e-4, rtol=1e-4)
    for b1, b2 in zip(ours.buffers(), ref.buffers()):
        torch.testing.assert_close(b1, b2)
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(x), ref(x))


def _swap_norms(module: nn.Module) -> nn.Module:
    """Replace every torch LayerNorm, RMSNorm and BatchNorm*d in `module` by ours, in place, with
    the same arguments and the same state_dict (a user swapping the classes does no more)."""
    from labml_nn_norm.rms_norm import RMSNorm

    for name, child in module.named_children():
        if isinstance(child, nn.LayerNorm):
            new = LayerNorm(child.normalized_shape, child.eps, child.elementwise_affine,
                            bias=child.bias is not None)
        elif isinstance(child, nn.RMSNorm):
            new = RMSNorm(child.normalized_shape, child.eps, child.elementwise_affine)
        elif isinstance(child, nn.modules.batchnorm._BatchNorm):
            new = BatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                            child.track_running_stats, bias=child.bias is not None)
        else:
            _swap_norms(child)
            continue
        new.load_state_dict(child.state_dict())
        new.train(child.training)
        setattr(module, name, new)
    return module


class _SmallModel(nn.Module):
    # A conv stem with BatchNorm2d, a PyTorch TransformerEncoderLayer (its own LayerNorms), an
    # RMSNorm and a LayerNorm before the head: none of it written for our classes
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.block = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                                norm_first=True)
        self.rms = nn.RMSNorm(8)
        self.ln = nn.LayerNorm(8)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        h = self.stem(x).flatten(2).transpose(1, 2)  # (B, H*W, C): tokens
        return self.head(self.ln(self.rms(self.block(h))))


def test_swap_into_torch_model():
    import copy

    torch.manual_seed(0)
    ref = _SmallModel()
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    ours = _swap_norms(copy.deepcopy(ref))
    assert sum(isinstance(m, (nn.LayerNorm, nn.RMSNorm, nn.modules.batchnorm._BatchNorm))
               for m in ours.modules()) == 0
    # Training steps: same outputs, same gradients, same buffers
    opt_ref = torch.optim.SGD(ref.parameters(), lr=0.1)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.1)
    for step in range(3):
        x = torch.randn(4, 3, 4, 4) * 2 + 1
        y_ref, y_ours = ref(x), ours(x)
        torch.testing.assert_close(y_ours, y_ref, atol=1e-5, rtol=1e-5)
        for model, opt, y in ((ref, opt_ref, y_ref), (ours, opt_ours, y_ours)):
            opt.zero_grad()
            y.square().mean().backward()
            opt.step()
    # The state_dicts: same keys, same values, and each loads into the other model
    sd_ref, sd_ours = ref.state_dict(), ours.state_dict()
    assert list(sd_ref) == list(sd_ours)
    for k in sd_ref:
        torch.testing.assert_close(sd_ours[k], sd_ref[k], atol=1e-5, rtol=1e-5)
    ref.load_state_dict(sd_ours)
    ours.load_state_dict(sd_ref)
    # Evaluation, with and without autograd (the encoder layer may take PyTorch's fast path)
    ref.eval()
    ours.eval()
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    # An `except RuntimeError` written for torch catches our shape errors too
    bad_inputs = [(ours.ln, torch.randn(2, 7)), (ours.rms, torch.randn(2, 7)),
                  (ours.stem[1], torch.randn(2, 5, 4, 4)), (ours, torch.randn(2, 4, 4, 4))]
    for module, bad in bad_inputs:
        try:
            module(bad)
        except RuntimeError:
            pass
        else:
            raise AssertionError(f'{type(module).__name__} accepted an input of size '
                                 f'{list(bad.shape)}')
