"""A torchsummary-style table: every leaf layer's output shape and parameter count."""

from __future__ import annotations

import torch

from ..contract import make_config
from ..errors import PlaygroundError
from ..registry import get_family


def module_table(net: torch.nn.Module, *inputs) -> str:
    rows, hooks = [], []
    for name, mod in net.named_modules():
        if list(mod.children()):
            continue

        def hook(m, _inp, out, name=name):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else "?"
            params = sum(p.numel() for p in m.parameters(recurse=False))
            rows.append((name, type(m).__name__, str(list(shape)), params))

        hooks.append(mod.register_forward_hook(hook))
    was = net.training
    net.eval()
    with torch.no_grad():
        net(*inputs)
    net.train(was)
    for h in hooks:
        h.remove()
    total = sum(p.numel() for p in net.parameters())
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    lines = [f"{'layer':<22}{'type':<18}{'output shape':<22}{'params':>10}", "-" * 72]
    lines += [f"{n:<22}{t:<18}{s:<22}{p:>10,}" for n, t, s, p in rows]
    lines += ["-" * 72, f"total params: {total:,}   trainable: {trainable:,}"]
    return "\n".join(lines)


def family_summary(family_name: str, overrides: dict | None = None) -> str:
    family = get_family(family_name)
    cfg = make_config(family, overrides)
    try:
        nets = family.build(cfg)
    except ValueError as e:
        raise PlaygroundError(str(e)) from None
    G = nets["G"]
    n = 2
    z = torch.randn(n, G.z_dim)
    c = torch.zeros(n, dtype=torch.long) if G.num_classes else None
    out = [f"== {family.name}: {cfg}"]
    for key, net in nets.items():
        if key == "G":
            args = (z,) if c is None else (z, c)
        else:
            x = torch.zeros(n, cfg.img_channels, cfg.img_resolution, cfg.img_resolution)
            args = (x,) if c is None or not getattr(net, "num_classes", 0) else (x, c)
        out.append(f"\n[{key}]\n" + module_table(net, *args))
    return "\n".join(out)
