"""GEOM with the translation border filled as the authors' code fills it, a switch for measuring it.

``novelbench.methods.geometric`` fills the border a translation uncovers by reflection without
repeating the edge pixel (torch's ``reflect``: ... c b | a b c ...). The authors' code
(``izikgo/AnomalyDetectionTransformations``) translates with Keras' ``apply_affine_transform``,
``fill_mode='reflect'``, which is scipy's ``reflect`` and repeats the edge pixel (... b a | a b c
...). Making that a switch of ``geom`` would change ``geometric.py``, and with it the id of every
committed ``geom`` trial; this subclass exists to measure it:

- ``fill``: ``reflect`` (geom's) or ``symmetric`` (the authors', edge repeated).

With ``fill="reflect"`` the scores are ``geom``'s bit for bit (``tests/test_measuring_subclasses.py``). Run it by class path from the repository root (the
registry looks a path's module up in the current folder too):

    bench run -m benchmarks.geom_fill:GEOMFill --param fill=symmetric ...

How: ``GEOM.fit`` builds its transformations' index maps by the name ``index_maps`` of
``novelbench.methods.geom``; while this class fits with ``fill="symmetric"``, that name points to
``symmetric_index_maps`` (``measuring.names_replaced``), so the training loop measured is ``geom``'s own, not a copy.
"""

from __future__ import annotations

import torch

import novelbench.methods.geom as geom
from novelbench.methods.base import StrOptions
from novelbench.methods.geometric import GeoTransform

from benchmarks.measuring import add_switches_to_signature, names_replaced


def symmetric_pad(x: torch.Tensor, px: int, py: int) -> torch.Tensor:
    """Pad the last two dimensions by reflection that repeats the edge pixel (numpy's and scipy's
    ``symmetric`` / Keras' ``reflect``); ``px`` and ``py`` at most the side."""
    x = torch.cat([x[..., :px].flip(-1), x, x[..., x.shape[-1] - px:].flip(-1)], dim=-1)
    return torch.cat([x[..., :py, :].flip(-2), x, x[..., x.shape[-2] - py:, :].flip(-2)], dim=-2)


def apply_symmetric(images: torch.Tensor, t: GeoTransform) -> torch.Tensor:
    """``geometric.apply_transform`` with the translation's border filled by ``symmetric_pad``."""
    x = images.flip(-1) if t.flip else images
    if t.tx or t.ty:
        h, w = x.shape[-2:]
        px, py = abs(t.tx), abs(t.ty)
        x = symmetric_pad(x, px, py)[..., py - t.ty: py - t.ty + h, px - t.tx: px - t.tx + w]
    return torch.rot90(x, t.rot, dims=(-2, -1)) if t.rot else x


def symmetric_index_maps(transforms: list[GeoTransform], height: int, width: int) -> torch.Tensor:
    """``geometric.index_maps`` with the authors' border fill."""
    grid = torch.arange(height * width, dtype=torch.float64).reshape(1, 1, height, width)
    return torch.stack([apply_symmetric(grid, t).reshape(-1) for t in transforms]).long()


@add_switches_to_signature
class GEOMFill(geom.GEOM):
    name = "geom-fill"
    summary = "geom with the translation border filled as the authors' code fills it (edge repeated); a measuring tool"
    _parameter_constraints = {**geom.GEOM._parameter_constraints, "fill": [StrOptions({"reflect", "symmetric"})]}

    def __init__(self, *, fill: str = "reflect", **params):
        super().__init__(**params)
        self.fill = fill

    def fit(self, images):
        with names_replaced(geom, {"index_maps": symmetric_index_maps} if self.fill == "symmetric" else {}):
            return super().fit(images)
