"""ALOCC with the last differences from the authors' TensorFlow code put back, each a switch.

``novelbench.methods.alocc`` lists three differences from the authors' code
(``khalooei/ALOCC-CVPR2018``) that are not switches of ``alocc``: making them switches there
would change ``alocc.py``, and with it the id of every committed ``alocc`` trial. This subclass
exists to measure them, one at a time or together:

- ``batches``: ``shuffled`` (alocc: a fresh permutation every epoch, an epoch's short last batch
  topped up from the next) or ``file-order`` (the authors': the digit's images in the order given,
  which is MNIST's file order under the harness's protocols, the same batches every epoch, the
  short last batch dropped);
- ``padding``: ``symmetric`` (alocc: k // 2 on every side) or ``tf-same`` (TensorFlow's 'SAME':
  the padding that gives ceil(n / stride) outputs, the odd pixel at the bottom and right; for the
  transposed convolutions of R's decoder, the adjoint of that convolution);
- ``conv_bias``: ``False`` (alocc: no bias in a convolution followed by batch norm) or ``True``
  (the authors': every convolution and transposed convolution has a bias, initialised at zero).
  Batch norm subtracts a bias again (its gradient is zero but for rounding), and the zero
  biases draw no random numbers, so this one can change numbers only through rounding.

With every switch at its default the scores are ``alocc``'s bit for bit
(``tests/test_measuring_subclasses.py``). Run it by class path from the repository root (the
registry looks a path's module up in the current folder too):

    bench run -m benchmarks.alocc_tf_details:ALOCCTFDetails --param batches=file-order ...

How: ``ALOCC.fit`` builds its networks and batches by the names ``Reconstructor``,
``ConvDiscriminator`` and ``ShuffledBatches`` of ``novelbench.methods.alocc``; while this class
fits, those names point to builders that apply the switches (``measuring.names_replaced``; one
fit at a time per process, as the harness runs them), so the training loop measured is
``alocc``'s own, not a copy.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

import novelbench.methods.alocc as alocc
from novelbench.methods.adversarial import ShuffledBatches
from novelbench.methods.base import StrOptions

from benchmarks.measuring import add_switches_to_signature, names_replaced


def same_padding(n: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding of a side of n pixels: (before, after), the odd one after."""
    total = max((math.ceil(n / stride) - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


class TFSameConv2d(nn.Module):
    """``conv`` (its own padding set to 0) applied with TensorFlow's 'SAME' padding."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        conv.padding = (0, 0)
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw) = self.conv.kernel_size, self.conv.stride
        top, bottom = same_padding(x.shape[-2], kh, sh)
        left, right = same_padding(x.shape[-1], kw, sw)
        return self.conv(F.pad(x, (left, right, top, bottom)))


class TFSameConvTranspose2d(nn.Module):
    """``deconv`` as TensorFlow's ``conv2d_transpose`` with 'SAME' padding: the full transposed
    convolution cropped to ``output_size`` from the 'SAME' padding's ``before`` on."""

    def __init__(self, deconv: nn.ConvTranspose2d):
        super().__init__()
        deconv.padding, deconv.output_padding = (0, 0), (0, 0)
        self.deconv = deconv

    def forward(self, x: torch.Tensor, output_size: list[int]) -> torch.Tensor:
        (kh, kw), (sh, sw) = self.deconv.kernel_size, self.deconv.stride
        h, w = output_size[-2:]
        top, left = same_padding(h, kh, sh)[0], same_padding(w, kw, sw)[0]
        return self.deconv(x)[..., top:top + h, left:left + w]


def tf_layers(net: nn.Module, padding: str, conv_bias: bool) -> nn.Module:
    """Give every convolution of ``net`` a zero bias (``conv_bias``) and TF 'SAME' padding
    (``padding="tf-same"``), in place."""
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if not isinstance(child, (nn.Conv2d, nn.ConvTranspose2d)):
                continue
            if conv_bias and child.bias is None:
                child.bias = nn.Parameter(torch.zeros(child.out_channels))
            if padding == "tf-same":
                wrap = TFSameConv2d if isinstance(child, nn.Conv2d) else TFSameConvTranspose2d
                setattr(parent, name, wrap(child))
    return net


class FileOrderBatches(ShuffledBatches):
    """The authors' batches: consecutive images in the order given, the same every epoch, the
    last short batch dropped (``n // batch_size`` per epoch)."""

    def __init__(self, n: int, batch_size: int, device: torch.device):
        self.n, self.size, self.device = n, min(batch_size, n), device
        self.epoch, self._pos = 0, 0

    def __next__(self) -> torch.Tensor:
        batch = torch.arange(self._pos, self._pos + self.size)
        self._pos += self.size
        if self._pos + self.size > self.n:
            self.epoch, self._pos = self.epoch + 1, 0
        return batch.to(self.device)

    @property
    def steps_per_epoch(self) -> int:
        return self.n // self.size


@add_switches_to_signature
class ALOCCTFDetails(alocc.ALOCC):
    name = "alocc-tf-details"
    summary = "alocc with its last differences from the authors' code as switches (batches, padding, conv biases); a measuring tool"
    _parameter_constraints = {**alocc.ALOCC._parameter_constraints, "batches": [StrOptions({"shuffled", "file-order"})],
                              "padding": [StrOptions({"symmetric", "tf-same"})], "conv_bias": ["boolean"]}

    def __init__(self, *, batches: str = "shuffled", padding: str = "symmetric", conv_bias: bool = False, **params):
        super().__init__(**params)
        self.batches, self.padding, self.conv_bias = batches, padding, conv_bias

    def _builder(self, make):
        def build(*args, **kwargs):
            return tf_layers(make(*args, **kwargs), self.padding, self.conv_bias)
        return build

    def fit(self, images, on_epoch=None):
        replace = {}
        if self.padding != "symmetric" or self.conv_bias:
            replace.update({name: self._builder(getattr(alocc, name)) for name in ("Reconstructor", "ConvDiscriminator")})
        if self.batches == "file-order":
            replace["ShuffledBatches"] = FileOrderBatches
        with names_replaced(alocc, replace):
            return super().fit(images, on_epoch)
