"""Receptive fields of the long-gap networks, from their layer geometry (no TensorFlow).

Why: Chang et al. 2019's Table 3 finds that inpainting fails when the receptive field along
time is smaller than about the mask, so each config must say its own. The receptive field of
an output position is the number of input positions it depends on; here the maximum over all
output positions of an axis of `length` positions (the interior value once `length` is long
enough), propagated exactly through 'same'-padded convolutions (TensorFlow's padding split)
and nearest upsampling. tests/test_longgap_models.py checks it against the gradients of the
built networks.
"""

import dataclasses
from typing import Sequence


@dataclasses.dataclass(frozen=True)
class AxisOp:
  """One layer along one axis: a 'conv' (kernel, dilation, stride) or an 'up' (stride = factor)."""

  kind: str
  kernel: int = 1
  dilation: int = 1
  stride: int = 1


def stack_width(ops: Sequence[AxisOp]) -> int:
  """Closed form for stride-free stacks: 1 + sum (kernel - 1) dilation."""
  if any(op.kind != 'conv' or op.stride != 1 for op in ops):
    raise ValueError('stack_width is for stride-free convolution stacks; use receptive_field')
  return 1 + sum((op.kernel - 1) * op.dilation for op in ops)


def _forward(ops: Sequence[AxisOp], length: int):
  """[(input length, left padding)] per layer, as TensorFlow's 'SAME' pads."""
  out, n = [], length
  for op in ops:
    if op.kind == 'up':
      out.append((n, 0))
      n *= op.stride
    else:
      m = -(-n // op.stride)
      total = max((m - 1) * op.stride + (op.kernel - 1) * op.dilation + 1 - n, 0)
      out.append((n, total // 2))
      n = m
  return out, n


def receptive_field(ops: Sequence[AxisOp], length: int = None) -> int:
  """Max over output positions of the number of input positions each depends on.

  length: the axis length of the input (default: long enough for the interior value).
  """
  if length is None:
    period = 1
    for op in ops:
      period *= op.stride
    length = 4 * sum((op.kernel - 1) * op.dilation * period for op in ops) + 8 * period + 1
  layers, n_out = _forward(ops, length)
  best = 0
  for p in range(n_out):
    lo = hi = p
    for op, (n_in, pad) in zip(reversed(ops), reversed(layers)):
      if op.kind == 'up':
        lo, hi = lo // op.stride, hi // op.stride
      else:
        lo = max(lo * op.stride - pad, 0)
        hi = min(hi * op.stride - pad + (op.kernel - 1) * op.dilation, n_in - 1)
    best = max(best, hi - lo + 1)
  return best


def chang_table3(n_dilated: int) -> int:
  """A reading of Table 3's receptive fields 21, 29, 45, ..., 125 (INFERRED, not stated).

  Kernel-3 convolutions [1, stride 2, 1, stride 2, 1] give 21 on the input's time axis; at the
  quarter resolution one more plain conv adds 8 (29) and each dilation-2 conv 16 (45 ... 125).
  So n_dilated = -1 -> 21, 0 -> 29, 1 -> 45, ..., 6 -> 125. The decoder is not counted there.
  """
  if n_dilated < -1:
    raise ValueError('n_dilated >= -1')
  ops = [AxisOp('conv', 3), AxisOp('conv', 3, stride=2), AxisOp('conv', 3),
         AxisOp('conv', 3, stride=2), AxisOp('conv', 3)]
  if n_dilated >= 0:
    ops.append(AxisOp('conv', 3))
    ops += [AxisOp('conv', 3, dilation=2)] * n_dilated
  return _interior_width(ops)


def _interior_width(ops: Sequence[AxisOp]) -> int:
  """Receptive field without upsampling: 1 + sum (k - 1) d jump (jump = product of earlier strides)."""
  width, jump = 1, 1
  for op in ops:
    width += (op.kernel - 1) * op.dilation * jump
    jump *= op.stride
  return width

