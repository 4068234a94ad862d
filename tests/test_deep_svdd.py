"""Deep SVDD: the center rule, the paper's preprocessing and networks, the soft-boundary variant,
and the paper's schedule reachable by --param."""

import numpy as np
import pytest
import torch

from novelbench.benchmark.execution import to_float
from novelbench.benchmark.plan import parse_param_overrides
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.methods import deep_svdd
from novelbench.methods.deep_svdd import DeepSVDD, center_from, global_contrast_normalization
from novelbench.methods.deep_svdd_paper import PAPER_SCHEDULE
from novelbench.methods.lenet import LeNetAutoencoder, LeNetEncoder, net_config
from novelbench.registry import METHODS


def _train(synthetic, name="hbar"):
    data = synthetic.splits["train"]
    return to_float(data.images[data.labels == data.label_of(name)])


def test_center_is_the_mean_with_near_zero_coordinates_pushed_to_eps():
    features = torch.tensor([[0.04, -0.02, 0.5, 0.0, -0.3], [0.02, -0.06, 0.7, 0.0, -0.5]])
    c = center_from(features, eps=0.1)
    torch.testing.assert_close(c, torch.tensor([0.1, -0.1, 0.6, 0.1, -0.4]))


def test_center_comes_from_the_initial_forward_pass_of_the_pretrained_encoder(synthetic, monkeypatch):
    trained = []

    def no_training(module, tensors, loss_fn, **kwargs):  # record which network each phase trains, change nothing
        trained.append(module)
        module.eval()
        return [0.0]

    monkeypatch.setattr(deep_svdd, "train_module", no_training)
    train = _train(synthetic)
    method = DeepSVDD(**{**DeepSVDD.test_params, "device": "cpu"}).fit(train)
    assert isinstance(trained[0], LeNetAutoencoder) and trained[1] is method.encoder_ is trained[0].encoder
    with torch.no_grad():
        features = method.encoder_.eval()(method._preprocess(train))
    torch.testing.assert_close(method.c_, center_from(features, method.eps))
    assert (method.c_.abs() >= method.eps - 1e-7).all()


def test_preprocessing_is_gcn_then_min_max_of_the_training_class(synthetic):
    images = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    images[5] = 0.3  # a constant image
    gcn = global_contrast_normalization(images)
    torch.testing.assert_close(gcn.flatten(1).mean(1), torch.zeros(6), atol=1e-6, rtol=0)
    torch.testing.assert_close(gcn[:5].flatten(1).abs().mean(1), torch.ones(5))
    assert torch.equal(gcn[5], torch.zeros_like(gcn[5]))
    train = _train(synthetic)
    method = DeepSVDD(**{**DeepSVDD.test_params, "ae_epochs": 1, "epochs": 1, "device": "cpu"}).fit(train)
    scaled = method._preprocess(train)
    assert scaled.min().item() == pytest.approx(0.0, abs=1e-6) and scaled.max().item() == pytest.approx(1.0, abs=1e-6)
    lo, hi = method.minmax_  # test images are scaled with the training class's numbers
    other = _train(synthetic, "ring")
    torch.testing.assert_close(method._preprocess(other), (global_contrast_normalization(other) - lo) / (hi - lo))


@pytest.mark.parametrize("shape, filters, rep_dim", [((1, 28, 28), (8, 4), 32), ((3, 32, 32), (32, 64, 128), 128),
                                                     ((1, 16, 16), (8, 4), 32)])
def test_the_papers_networks_are_chosen_by_shape_and_have_no_bias(shape, filters, rep_dim):
    assert net_config("auto", shape) == (filters, rep_dim)
    ae = LeNetAutoencoder(shape[0], shape[1], filters, rep_dim)
    x = torch.rand(2, *shape)
    assert ae.encoder(x).shape == (2, rep_dim) and ae(x).shape == x.shape
    assert not any(name.endswith("bias") for name, _ in ae.named_parameters())
    assert all(not m.affine for m in ae.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert [m.out_channels for m in ae.encoder.modules() if isinstance(m, torch.nn.Conv2d)] == list(filters)
    assert LeNetEncoder(shape[0], shape[1], *net_config("mnist", shape)).rep_dim == 32


def test_soft_boundary_variant_has_a_radius_and_a_native_decision(synthetic):
    train = _train(synthetic)
    test = synthetic.splits["test"]
    images = to_float(test.images)
    runs = []
    for _ in range(2):
        with pinned_threads(1):
            seed_everything(0)
            method = DeepSVDD(**{**DeepSVDD.test_params, "objective": "soft-boundary", "warm_up_epochs": 2,
                                 "device": "cpu"}).fit(train)
            runs.append(method.score_and_predict(images))
    (scores, inside), (again, _) = runs
    np.testing.assert_array_equal(scores, again)
    assert method.radius_ > 0
    assert inside.dtype == bool and np.array_equal(inside, scores <= 0)  # score = distance^2 - R^2
    inlier, ring = test.labels == test.label_of("hbar"), test.labels == test.label_of("ring")
    assert inside[inlier].mean() > inside[ring].mean()
    assert 0.5 < method.predict(train).mean() <= 1.0  # about 1 - nu of the training images fall inside


def test_the_paper_schedule_is_reachable_by_param_and_as_a_preset():
    specs = ["deep-svdd.ae_epochs=150", "deep-svdd.epochs=150", "deep-svdd.lr=1e-4", "deep-svdd.ae_lr=1e-4",
             "deep-svdd.lr_milestones=(50,)", "deep-svdd.ae_lr_milestones=(50,)", "deep-svdd.batch_size=200",
             "deep-svdd.weight_decay=0.5e-6", "deep-svdd.ae_weight_decay=0.5e-3"]
    grid = parse_param_overrides(specs, ["deep-svdd"])["deep-svdd"]
    assert {k: v[0] for k, v in grid.items()} == PAPER_SCHEDULE
    made = METHODS.plugin("deep-svdd").create(**{k: v[0] for k, v in grid.items()})
    assert made.lr_milestones == (50,) and made.epochs == 150
    assert METHODS.plugin("deep-svdd-paper").param_defaults() == {**DeepSVDD.param_defaults(), **PAPER_SCHEDULE}
