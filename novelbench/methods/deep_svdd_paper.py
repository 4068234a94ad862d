"""deep-svdd-paper: Deep SVDD with the paper's MNIST schedule (a preset of ``deep-svdd``).

The authors' command for MNIST: autoencoder pretraining 150 epochs (Adam, lr 1e-4, weight decay
0.5e-3, lr x0.1 at epoch 50), then 150 Deep SVDD epochs (Adam, lr 1e-4, weight decay 0.5e-6, lr
x0.1 at epoch 50), batch 200. The same settings are reachable with ``--param deep-svdd.NAME=...``.
About 6x the default's cost on one CPU thread.
"""

from novelbench.methods.deep_svdd import DeepSVDD
from novelbench.registry import register_preset

PAPER_SCHEDULE = dict(ae_epochs=150, ae_lr=1e-4, ae_lr_milestones=(50,), ae_weight_decay=0.5e-3,
                      epochs=150, lr=1e-4, lr_milestones=(50,), weight_decay=0.5e-6, batch_size=200)

register_preset("deep-svdd-paper", DeepSVDD, **PAPER_SCHEDULE,
                summary="Deep SVDD with the paper's schedule (150 + 150 epochs, Adam 1e-4, lr drop at 50, batch 200)")
