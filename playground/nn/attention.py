"""Self-attention over positions (SAGAN, Zhang et al. 2019): every output position is a mix of
every input position, weighted by a softmax over query-key similarity; a learned gate gamma,
zero at initialisation, lets the net start local and learn how much non-local evidence to use."""

import torch
from torch import nn
import torch.nn.functional as F

from . import spectral


class SelfAttention(nn.Module):
    """`pool_keys` (BigGAN's implementation): keys and values max-pooled 2x2, so each position
    attends over a quarter as many (coarser) positions; 4x less softmax work."""

    def __init__(self, ch: int, use_sn: bool = True, pool_keys: bool = False):
        super().__init__()
        self.pool_keys = pool_keys
        self.q = spectral.conv(ch, max(ch // 8, 1), 1, use_sn)
        self.k = spectral.conv(ch, max(ch // 8, 1), 1, use_sn)
        self.v = spectral.conv(ch, max(ch // 2, 1), 1, use_sn)
        self.out = spectral.conv(max(ch // 2, 1), ch, 1, use_sn)
        self.gamma = nn.Parameter(torch.zeros(()))
        self.keep_map = False             # set to keep the last attention map (for the overlay)
        self.last_map: torch.Tensor | None = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """[N, HW (queries), HW' (keys)]: row i = where position i looks, a softmax over positions."""
        q = self.q(x).flatten(2)                                  # [N, C/8, HW]
        k = self._keys(self.k(x)).flatten(2)                      # [N, C/8, HW'] (HW' = HW/4 pooled)
        return torch.softmax(torch.bmm(q.transpose(1, 2), k), dim=-1)  # [N, HW, HW']

    def _keys(self, t: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(t, 2) if self.pool_keys else t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        beta = self.attention(x)
        if self.keep_map:
            self.last_map = beta.detach()
        v = self._keys(self.v(x)).flatten(2)                      # [N, C/2, HW']
        o = torch.bmm(v, beta.transpose(1, 2)).view(n, -1, h, w)  # o_i = sum_j beta_ij v_j
        return x + self.gamma * self.out(o)
