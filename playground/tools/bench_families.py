"""`bench --only families`: training throughput of every family through the project's engine, at
batch 64 and at a large batch, beside eriklindernoren/PyTorch-GAN's equivalent script where it
has one (gan.py, dcgan.py, wgan_gp.py; cgan.py is `bench --only train`), rebuilt here layer for
layer (nothing vendored) and run the way those scripts run: PIL images through per-item
torchvision transforms and a DataLoader, Adam, zero_grad/backward/step.

img/s counts real images consumed per second (a WGAN-GP step reads n_critic batches, in both).
On the CPU each family is also timed at batch 64 with bf16 autocast (`b64_bf16`), which is what
`train --precision bf16` runs; on CUDA the engine runs are bf16 already.
"""

from __future__ import annotations

import threading
import time

import torch
from torch import nn

from ..errors import PlaygroundError

# family -> (dataset, extra config) for the throughput run
FAMILY_RUNS = {
    "gan": ("fashion", {}), "dcgan": ("fashion", {}), "cgan": ("fashion", {}), "wgan": ("fashion", {}),
    "wgan-gp": ("fashion", {}), "infogan": ("fashion", {}), "stylegan": ("fashion", {}),
    "cyclegan": ("fashion:7,9", {}), "srgan": ("photos", {"phase": "pixel"}),
    "sagan": ("fashion", {}), "biggan": ("fashion", {}),
    # ProGAN timed at its final resolution: one step per earlier stage, no fades
    "progan": ("fashion", {"stable_steps": 1, "fade_steps": 0}),
}
LARGE = {"cpu": 512, "cuda": 8192}          # the large batch (MLPs x4 on CUDA, heavy nets /4), halved on OOM


def engine_rate(family: str, batch: int, device: str, seconds: float, warmup: int = 3,
                precision: str | None = None) -> dict:
    """img/s and it/s of `family` through the engine, timed after `warmup` steps for ~`seconds`.
    `precision` defaults to bf16 autocast on CUDA and fp32 on the CPU."""
    from ..engine.trainer import TrainSpec, train
    from ..eval.resources import training_resources

    dataset, sets = FAMILY_RUNS[family]
    stop = threading.Event()
    spec = TrainSpec(family=family, dataset=dataset, steps=10**6, batch_size=batch, seed=0, device=device,
                     overrides={k: str(v) for k, v in sets.items()}, log_every=1, sample_every=10**9,
                     precision=precision or ("bf16" if device == "cuda" else "fp32"))
    start = last = None
    for ev in train(spec, stop, training_resources()):
        if ev.kind != "step" or ev.step < warmup:
            continue
        if start is None:
            _sync(device)
            start = (time.perf_counter(), ev.step, ev.images)
            continue
        last = ev
        if time.perf_counter() - start[0] > seconds and ev.step - start[1] >= 3:
            stop.set()
    _sync(device)
    elapsed = time.perf_counter() - start[0]
    return {"img_per_s": round((last.images - start[2]) / elapsed),
            "it_per_s": round((last.step - start[1]) / elapsed, 2), "batch": batch}


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


# ---- PyTorch-GAN's networks, rebuilt ----

def _mlp_g(z_dim=100, out=784):
    def block(i, o, norm=True):
        return [nn.Linear(i, o)] + ([nn.BatchNorm1d(o, 0.8)] if norm else []) + [nn.LeakyReLU(0.2, True)]
    return nn.Sequential(*block(z_dim, 128, False), *block(128, 256), *block(256, 512), *block(512, 1024),
                         nn.Linear(1024, out), nn.Tanh())


def _mlp_d(sigmoid: bool, inp=784):
    layers = [nn.Linear(inp, 512), nn.LeakyReLU(0.2, True), nn.Linear(512, 256), nn.LeakyReLU(0.2, True),
              nn.Linear(256, 1)]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))


class _DCGenerator(nn.Module):
    def __init__(self, z_dim=100, size=32, ch=1):
        super().__init__()
        self.s = size // 4
        self.l1 = nn.Linear(z_dim, 128 * self.s ** 2)
        self.conv = nn.Sequential(nn.BatchNorm2d(128), nn.Upsample(scale_factor=2), nn.Conv2d(128, 128, 3, 1, 1),
                                  nn.BatchNorm2d(128, 0.8), nn.LeakyReLU(0.2, True), nn.Upsample(scale_factor=2),
                                  nn.Conv2d(128, 64, 3, 1, 1), nn.BatchNorm2d(64, 0.8), nn.LeakyReLU(0.2, True),
                                  nn.Conv2d(64, ch, 3, 1, 1), nn.Tanh())

    def forward(self, z):
        return self.conv(self.l1(z).view(z.size(0), 128, self.s, self.s))


def _dc_d(size=32, ch=1):
    def block(i, o, bn=True):
        return [nn.Conv2d(i, o, 3, 2, 1), nn.LeakyReLU(0.2, True), nn.Dropout2d(0.25)] + \
            ([nn.BatchNorm2d(o, 0.8)] if bn else [])
    return nn.Sequential(*block(ch, 16, False), *block(16, 32), *block(32, 64), *block(64, 128), nn.Flatten(),
                         nn.Linear(128 * (size // 16) ** 2, 1), nn.Sigmoid())


# family -> (script, image size, G, D, loss). gan.py's MLPs are the notes' (ours: the same widths);
# dcgan.py upsamples + convolves where the DCGAN paper (ours) uses transposed convs, and wgan_gp.py
# is an MLP where ours is the conv net with a LayerNorm critic: `same_layers` says which is which.
PEERS = {
    "gan": ("gan.py", 28, lambda: _mlp_g(), lambda: _mlp_d(True), "bce", True),
    "dcgan": ("dcgan.py", 32, lambda: _DCGenerator(), lambda: _dc_d(), "bce", False),
    "wgan-gp": ("wgan_gp.py", 28, lambda: _mlp_g(), lambda: _mlp_d(False), "wgan-gp", False),
}


def peer_rate(family: str, batch: int, device: str, seconds: float, warmup: int = 3) -> dict:
    import torchvision.transforms as T
    from PIL import Image

    from ..data import load_dataset

    script, size, make_g, make_d, loss, same = PEERS[family]
    ds = load_dataset("fashion", "train")
    tf = T.Compose([T.Resize(size), T.ToTensor(), T.Normalize([0.5], [0.5])])

    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return tf(Image.fromarray(ds.images[i, 0].numpy(), mode="L")), int(ds.labels[i])

    loader = torch.utils.data.DataLoader(Items(), batch_size=batch, shuffle=True, drop_last=True)
    G, D = make_g().to(device), make_d().to(device)
    lr, betas = (1e-4, (0.5, 0.999)) if loss == "wgan-gp" else (2e-4, (0.5, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    bce = nn.BCELoss()
    t0, done = None, 0
    while True:
        for i, (imgs, _) in enumerate(loader):
            if done == warmup:
                _sync(device)
                t0 = time.perf_counter()
            real = imgs.to(device)
            real = real.view(len(real), -1) if not isinstance(G, _DCGenerator) else real
            z = torch.randn(len(real), 100, device=device)
            if loss == "bce":
                ones = torch.ones(len(real), 1, device=device)
                zeros = torch.zeros(len(real), 1, device=device)
                opt_G.zero_grad()
                gen = G(z)
                bce(D(gen), ones).backward()
                opt_G.step()
                opt_D.zero_grad()
                ((bce(D(real), ones) + bce(D(gen.detach()), zeros)) / 2).backward()
                opt_D.step()
            else:  # wgan_gp.py: a critic step per batch, G every 5th
                opt_D.zero_grad()
                fake = G(z)
                alpha = torch.rand(len(real), 1, device=device)
                x_hat = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
                grad = torch.autograd.grad(D(x_hat), x_hat, torch.ones(len(real), 1, device=device),
                                           create_graph=True, retain_graph=True, only_inputs=True)[0]
                gp = ((grad.norm(2, dim=1) - 1) ** 2).mean()
                (-D(real).mean() + D(fake.detach()).mean() + 10 * gp).backward()
                opt_D.step()
                if i % 5 == 0:
                    opt_G.zero_grad()
                    (-D(G(z)).mean()).backward()
                    opt_G.step()
            done += 1
            if t0 is not None and done - warmup >= 3 and time.perf_counter() - t0 > seconds:
                _sync(device)
                elapsed = time.perf_counter() - t0
                n = done - warmup
                return {"img_per_s": round(n * batch / elapsed), "batches_per_s": round(n / elapsed, 2),
                        "batch": batch, "script": script, "image_size": size, "same_layers": same}


def _largest(family: str, device: str, seconds: float) -> dict | None:
    """The large-batch run: one fixed large batch per kind of net, halved on out-of-memory."""
    batch = LARGE["cuda" if device == "cuda" else "cpu"]
    if family in ("gan", "cgan") and device == "cuda":
        batch *= 4                       # MLPs: 32768 a step on one GPU
    if family in ("srgan", "stylegan", "cyclegan"):
        batch //= 4
    while batch >= 64:
        try:
            return engine_rate(family, batch, device, seconds)
        except torch.OutOfMemoryError:
            if device == "cuda":
                torch.cuda.empty_cache()
            batch //= 2
        except PlaygroundError:  # e.g. the dataset is smaller than the batch
            batch //= 2
    return None


def bench_families(device: str = "cpu", families: list[str] | None = None, seconds: float = 4.0) -> dict:
    out = {}
    for fam in families or list(FAMILY_RUNS):
        row = {"b64": engine_rate(fam, 64, device, seconds)}
        if fam in PEERS:
            row["peer_b64"] = peer_rate(fam, 64, device, seconds)
            row["speedup_b64"] = round(row["b64"]["img_per_s"] / max(row["peer_b64"]["img_per_s"], 1), 2)
        if device != "cuda":     # the CPU's bf16 autocast (`train --precision bf16`) beside its fp32
            row["b64_bf16"] = engine_rate(fam, 64, device, seconds, precision="bf16")
            row["bf16_speedup_b64"] = round(row["b64_bf16"]["img_per_s"] / max(row["b64"]["img_per_s"], 1), 2)
        row["large"] = _largest(fam, device, seconds)
        out[fam] = row
        print(f"  {fam:<9} {row}", flush=True)
    return {"device": device, "threads": torch.get_num_threads(), "families": out}
