"""The measuring subclasses of benchmarks/: a method's remaining differences from its authors' code
as switches (alocc_tf_details.py: TF 'SAME' padding, file-order batches, convolution biases;
geom_fill.py: the translation border filled with the edge repeated)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from novelbench.errors import NovelbenchError
from novelbench.registry import METHODS

from conftest import fit_test_params, switch_id

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the class is run by path from the repository root
    sys.path.insert(0, str(REPO))

from benchmarks.alocc_tf_details import FileOrderBatches, TFSameConv2d, TFSameConvTranspose2d, same_padding  # noqa: E402
from benchmarks.geom_fill import symmetric_index_maps, symmetric_pad  # noqa: E402
from novelbench.methods.geometric import index_maps, transformation_set  # noqa: E402

PATH = "benchmarks.alocc_tf_details:ALOCCTFDetails"
GEOM_PATH = "benchmarks.geom_fill:GEOMFill"


def _scores(name, train, test, **override):
    return fit_test_params(name, train, **override).score(test)


def test_with_every_switch_at_its_default_the_scores_are_alocc_s_bit_for_bit(easy):
    train, test, _ = easy
    np.testing.assert_array_equal(_scores(PATH, train, test), _scores("alocc", train, test))


@pytest.mark.parametrize("override", [{"batches": "file-order"}, {"padding": "tf-same"}, {"conv_bias": True},
                                      {"batches": "file-order", "padding": "tf-same", "conv_bias": True}],
                         ids=switch_id)
def test_each_switch_changes_the_fit_deterministically_and_separates_an_easy_split(override, easy):
    train, test, is_outlier = easy
    first, second = (_scores(PATH, train, test, **override) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, _scores("alocc", train, test))
    assert roc_auc_score(is_outlier, first) > 0.9


def test_same_padding_is_tensorflow_s():
    assert same_padding(28, 5, 2) == (1, 2)  # 28 -> 14: 3 pixels, the odd one after
    assert same_padding(14, 5, 2) == (1, 2)
    assert same_padding(7, 5, 2) == (2, 2)  # 7 -> 4
    assert same_padding(5, 1, 2) == (0, 0)
    conv = TFSameConv2d(nn.Conv2d(1, 2, 5, 2, bias=False))
    x = torch.randn(3, 1, 28, 28)
    expected = nn.functional.conv2d(nn.functional.pad(x, (1, 2, 1, 2)), conv.conv.weight, stride=2)
    torch.testing.assert_close(conv(x), expected)
    assert conv(torch.randn(1, 1, 7, 7)).shape[-2:] == (4, 4)


@pytest.mark.parametrize("size", [28, 14, 7])
def test_the_transposed_convolution_is_the_adjoint_of_the_same_padded_one(size):
    """<conv(x), y> = <x, deconv(y)> with shared weights: TF's conv2d_transpose is conv2d's gradient."""
    torch.manual_seed(0)
    conv = TFSameConv2d(nn.Conv2d(2, 3, 5, 2, bias=False))
    deconv = TFSameConvTranspose2d(nn.ConvTranspose2d(3, 2, 5, 2, bias=False))
    deconv.deconv.weight.data.copy_(conv.conv.weight.data)  # both (3, 2, 5, 5): out x in for conv, in x out for deconv
    x = torch.randn(2, 2, size, size, dtype=torch.float64)
    conv.double(), deconv.double()
    y = torch.randn_like(conv(x))
    torch.testing.assert_close((conv(x) * y).sum(), (x * deconv(y, output_size=[size, size])).sum())


def test_file_order_batches_repeat_the_given_order_and_drop_the_short_batch():
    batches = FileOrderBatches(10, 4, torch.device("cpu"))
    assert batches.steps_per_epoch == 2
    taken = [next(batches).tolist() for _ in range(4)]
    assert taken == [[0, 1, 2, 3], [4, 5, 6, 7]] * 2 and batches.epoch == 2


def test_a_bad_switch_value_is_one_clear_error():
    with pytest.raises(NovelbenchError, match="padding"):
        METHODS.plugin(PATH).cls.check_params({"padding": "valid"})
    assert METHODS.plugin(PATH).cls.param_defaults()["lr"] == METHODS.get("alocc").param_defaults()["lr"]


def test_geom_fill_at_its_default_is_geom_bit_for_bit_and_the_authors_fill_changes_it(easy):
    train, test, is_outlier = easy
    shifts = {"transforms": "shift-rot"}  # test_params' set has no translation
    ours = _scores("geom", train, test, **shifts)
    np.testing.assert_array_equal(_scores(GEOM_PATH, train, test, **shifts), ours)
    theirs = _scores(GEOM_PATH, train, test, fill="symmetric", **shifts)
    assert not np.array_equal(theirs, ours) and roc_auc_score(is_outlier, theirs) > 0.9


def test_the_authors_fill_repeats_the_edge_pixel_and_changes_only_translated_borders():
    row = torch.tensor([[[[1.0, 2.0, 3.0, 4.0]]]])
    assert symmetric_pad(row, 2, 0).flatten().tolist() == [2, 1, 1, 2, 3, 4, 4, 3]  # torch's reflect: 3 2 1 2 3 4 3 2
    x = np.arange(30.0).reshape(5, 6)
    np.testing.assert_array_equal(symmetric_pad(torch.tensor(x)[None, None], 2, 3)[0, 0].numpy(),
                                  np.pad(x, ((3, 3), (2, 2)), mode="symmetric"))
    transforms = transformation_set("flip-shift-rot", 7)
    ours, theirs = index_maps(transforms, 28, 28), symmetric_index_maps(transforms, 28, 28)
    for t, a, b in zip(transforms, ours, theirs):
        if t.invertible:
            assert torch.equal(a, b)
        else:  # the same source pixel exactly where the image itself, not its border fill, is copied
            inside = (28 - abs(t.tx)) * (28 - abs(t.ty))
            assert int((a == b).sum()) == inside
