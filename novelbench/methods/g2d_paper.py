"""g2d-paper: G2D with the authors' networks (a preset of ``g2d``; GPU-sized).

``masoudpz/G2D_generate_to_detect_anomaly`` (models/wgan_gradient_penalty.py, main.py): a DCGAN
generator z (100) -> 1024 x 4 x 4 -> 512 x 8 x 8 -> 256 x 16 x 16 -> image, with batch norm and
ReLU (``gen_widths=(1024, 512, 256)``: about 12M parameters), and a critic of 4 x 4 stride-2
convolutions 256 -> 512 -> 1024 with instance norm and LeakyReLU(0.2) (``critic_widths``); WGAN-GP
with 5 critic steps per generator step, penalty weight 10, Adam lr 1e-4, betas (0.5, 0.999), batch
64. Every snapshot up to T gives negatives (``match_band=None``, the paper's plan). The
classifier has the critic's shape and widths and sees the raw images (``input_blur=None``); the
negatives are the generator's samples as they are (``cue_match=False``).
The authors' run is 40,000 generator iterations, and their code keeps only the last generator;
G2D stops at T, and T = ``threshold_iter`` = 2,000 here is our choice, not the authors' (see
``g2d.py`` on T).
One generator iteration costs about 1 TFLOP here, so this preset is for a GPU.
"""

from novelbench.methods.g2d import G2D
from novelbench.registry import register_preset

AUTHORS_NETWORKS = dict(gen_widths=(1024, 512, 256), critic_widths=(256, 512, 1024), clf_widths=(256, 512, 1024),
                        threshold_iter=2000, gan_batch_size=64, gan_lr=1e-4, critic_steps=5, match_band=None,
                        input_blur=None, cue_match=False, classifiers=1)

register_preset("g2d-paper", G2D, **AUTHORS_NETWORKS,
                summary="G2D with the authors' DCGAN generator (1024-512-256) and critic (256-512-1024); GPU-sized")
