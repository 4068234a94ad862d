"""RMSProp as TensorFlow 1's ``tf.train.RMSPropOptimizer`` computes it, for methods whose authors
trained with it (ALOCC's code).

Per parameter, with gradient g (momentum 0, not centered, TF1's defaults decay 0.9, eps 1e-10):

    ms  <- decay * ms + (1 - decay) * g^2        ms starts at ONES (torch's RMSprop: zeros)
    mom <- momentum * mom + lr * g / sqrt(ms + eps)   eps inside the square root (torch: outside)
    p   <- p - mom

The accumulator starting at one is what matters: torch's first step divides g by
sqrt(0.1 g^2), a step of about lr * 3.16 in every coordinate whatever the gradient's size, where
TF1's divides by about one, a step of lr * g. The two agree once the accumulator has forgotten
its start (0.9^50 < 0.01).
"""

from __future__ import annotations

import torch


class TF1RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr: float, decay: float = 0.9, momentum: float = 0.0, eps: float = 1e-10):
        if lr <= 0 or not 0 <= decay <= 1 or momentum < 0 or eps < 0:
            raise ValueError(f"bad TF1RMSprop settings: lr={lr}, decay={decay}, momentum={momentum}, eps={eps}")
        super().__init__(params, {"lr": lr, "decay": decay, "momentum": momentum, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)
                    state["mom"] = torch.zeros_like(p)
                g = p.grad
                ms, mom = state["ms"], state["mom"]
                ms.mul_(group["decay"]).addcmul_(g, g, value=1 - group["decay"])
                mom.mul_(group["momentum"]).addcdiv_(g, (ms + group["eps"]).sqrt_(), value=group["lr"])
                p.sub_(mom)
        return loss
