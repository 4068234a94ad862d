"""The ``features`` a method works on: ``pixels``, ``pca:K`` or a torchvision backbone.

One parameter any method can declare (``_parameter_constraints = {"features": [FEATURES]}``):

- ``pixels`` (default): the flattened image, values in [0, 1];
- ``pca:K``: the top K principal components (scikit-learn's PCA, centred) of the pixels of the
  images the features are *fitted* on: a transductive method fits them on the pool it sees
  (training images plus the images it scores), any other method on its training images;
- a torchvision classification model name (``vgg16``, ``resnet18``, ...): its penultimate layer
  (the input of its last linear layer: VGG-16's 4,096-d fc7, ResNet-18's 512-d pooled features)
  on the image resized to 224 x 224 and normalised as for ImageNet, with the ImageNet weights
  torchvision ships (``DEFAULT``). ``NAME:random`` uses randomly initialised weights (a baseline,
  and what the tests run). Grey images are repeated to three channels.

The weights are downloaded by torchvision into ``torch.hub.get_dir()/checkpoints`` the first time
(online); offline, a missing file is one error line naming it and where to put it, raised when a
run checks its parameters, before any trial starts (``check_available``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import Options

from novelbench.errors import NovelbenchError

PCA_SPEC = re.compile(r"^pca:([1-9][0-9]*)$")
RANDOM_SUFFIX = ":random"
IMAGE_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BATCH = 64


@functools.lru_cache(maxsize=1)
def backbone_names() -> frozenset[str]:
    """torchvision's image-classification model names (``vgg16``, ``resnet18``, ...)."""
    import torchvision

    return frozenset(torchvision.models.list_models(module=torchvision.models))


def _backbone(spec: str) -> tuple[str, bool]:
    """``NAME`` or ``NAME:random`` -> (name, pretrained)."""
    name = spec.removesuffix(RANDOM_SUFFIX)
    return name, name == spec


def is_valid(spec: object) -> bool:
    if not isinstance(spec, str):
        return False
    return spec == "pixels" or bool(PCA_SPEC.match(spec)) or _backbone(spec)[0] in backbone_names()


class FeatureSpec(Options):
    """scikit-learn parameter constraint: ``pixels``, ``pca:K`` (K >= 1) or a torchvision model name
    (an ``Options`` subclass, since scikit-learn's validator accepts only its own constraint kinds)."""

    def __init__(self) -> None:
        super().__init__(str, set())

    def is_satisfied_by(self, val: object) -> bool:
        return is_valid(val)

    def __str__(self) -> str:
        return "'pixels', 'pca:K' (K >= 1) or a torchvision model name such as 'vgg16' or 'resnet18' (':random' for untrained weights)"


FEATURES = FeatureSpec()


def weights_file(name: str) -> Path:
    """Where torchvision keeps ``name``'s ImageNet weights."""
    import torchvision

    url = torchvision.models.get_model_weights(name).DEFAULT.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def check_available(spec: str) -> None:
    """Make sure a backbone's weights are here before any work: download them (online) or raise
    one line naming the file and where to put it (offline)."""
    if not is_valid(spec) or spec == "pixels" or PCA_SPEC.match(spec):
        return
    name, pretrained = _backbone(spec)
    if not pretrained:
        return
    path = weights_file(name)
    if path.exists():
        return
    import torchvision

    url = torchvision.models.get_model_weights(name).DEFAULT.url
    try:
        torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True)
    except Exception as exc:  # offline, proxy, disk: the same answer
        raise NovelbenchError(f"features={spec} needs the ImageNet weights file {path.name} in {path.parent} "
                              f"(download {url} there; the download failed: {type(exc).__name__})") from None


class Features:
    """Fitted feature map for one spec: ``fit(images)`` then ``transform(images)`` -> float64 (N, D)."""

    def __init__(self, spec: str = "pixels"):
        if not is_valid(spec):
            raise NovelbenchError(f"unknown features {spec!r}; use {FEATURES}")
        self.spec = spec

    def fit(self, images: torch.Tensor) -> "Features":
        match = PCA_SPEC.match(self.spec)
        self.pca_ = None
        self.net_ = None
        if match:
            pixels = _flat(images)
            k = int(match.group(1))
            if k > min(pixels.shape):
                raise NovelbenchError(f"features={self.spec}: K must be at most min(images, pixels) = {min(pixels.shape)}")
            self.pca_ = PCA(n_components=k, random_state=0).fit(pixels)
        elif self.spec != "pixels":
            self.net_ = _penultimate(*_backbone(self.spec))
        return self

    def transform(self, images: torch.Tensor) -> np.ndarray:
        if self.pca_ is not None:
            return self.pca_.transform(_flat(images))
        if self.net_ is not None:
            return _embed(self.net_, images)
        return _flat(images)

    def fit_transform(self, images: torch.Tensor) -> np.ndarray:
        return self.fit(images).transform(images)


def _flat(images: torch.Tensor) -> np.ndarray:
    return images.reshape(images.shape[0], -1).numpy().astype(np.float64)


def _penultimate(name: str, pretrained: bool) -> torch.nn.Module:
    """The model with its last linear layer replaced by the identity, in eval mode."""
    import torchvision

    if pretrained:
        check_available(name)
    net = torchvision.models.get_model(name, weights="DEFAULT" if pretrained else None)
    last = [(parent, child_name) for parent in net.modules() for child_name, child in parent.named_children()
            if isinstance(child, torch.nn.Linear)]
    if not last:
        raise NovelbenchError(f"features={name}: the model has no linear layer to take the features before")
    parent, child_name = last[-1]
    setattr(parent, child_name, torch.nn.Identity())
    return net.eval()


@torch.no_grad()
def _embed(net: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    out = []
    for batch in images.split(BATCH):
        batch = batch.float().expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch.float()
        batch = torch.nn.functional.interpolate(batch, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False)
        out.append(net((batch - mean) / std).flatten(1).double().numpy())
    return np.concatenate(out)
