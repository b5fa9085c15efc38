"""`python -m playground bench`: the project's speed targets, measured on this machine.

  train   the notes' CGAN MLP, batch 64, Fashion-MNIST: img/s of our engine vs a reference loop
          built the way eriklindernoren/PyTorch-GAN's cgan.py is (torchvision per-item transforms
          through a DataLoader, Embedding labels, Dropout, MSE loss), same machine, same threads
  sample  a 100-image grid from cgan-mnist (and from biggan-fashion, truncation 0.5), warm, median of 20
  app     `python app.py` start until the page answers
  fid     FID of 10,000 generated images against cached real statistics (domain features)
  sr      srresnet-x4 upscaling a 128x128 image to 512x512
  translate  cyclegan-sneaker-boot translating one 28x28 image (and reconstructing it)
  mix     stylegan-fashion: a 6x6 style-mixing grid at 32x32 (42 images incl. the sources), warm
  text    tedigan-fashion: 16 images from a new prompt (encoding included), warm; one edit
  bf16    fp32 vs bf16 images of every shipped model (the GPU inference check), on the device
  families  training img/s of every family at batch 64 and a large batch, beside PyTorch-GAN's
          equivalent script where there is one (see bench_families.py)
"""

from __future__ import annotations

import statistics
import tempfile
import time

import numpy as np
import torch
from torch import nn

from .bench_families import bench_families

TRAIN_STEPS, WARMUP = 300, 30


def _time_engine(device: str) -> float:
    from ..engine.trainer import TrainSpec, train
    from ..eval.resources import training_resources

    spec = TrainSpec(family="cgan", dataset="fashion", steps=TRAIN_STEPS + WARMUP, batch_size=64, seed=0,
                     device=device, log_every=WARMUP, sample_every=10**9)
    t_start = None
    for ev in train(spec, None, training_resources()):
        if ev.kind == "step" and ev.step == WARMUP:
            if device == "cuda":
                torch.cuda.synchronize()
            t_start = time.perf_counter()
    if device == "cuda":
        torch.cuda.synchronize()
    return TRAIN_STEPS * 64 / (time.perf_counter() - t_start)


class _RefG(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 10)

        def block(i, o, norm=True):
            layers = [nn.Linear(i, o)] + ([nn.BatchNorm1d(o, 0.8)] if norm else [])
            return layers + [nn.LeakyReLU(0.2, inplace=True)]

        self.model = nn.Sequential(*block(110, 128, False), *block(128, 256), *block(256, 512),
                                   *block(512, 1024), nn.Linear(1024, 784), nn.Tanh())

    def forward(self, z, c):
        return self.model(torch.cat((self.emb(c), z), -1)).view(-1, 1, 28, 28)


class _RefD(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 10)
        self.model = nn.Sequential(nn.Linear(794, 512), nn.LeakyReLU(0.2, True), nn.Linear(512, 512),
                                   nn.Dropout(0.4), nn.LeakyReLU(0.2, True), nn.Linear(512, 512),
                                   nn.Dropout(0.4), nn.LeakyReLU(0.2, True), nn.Linear(512, 1))

    def forward(self, x, c):
        return self.model(torch.cat((x.view(x.size(0), -1), self.emb(c)), -1))


def _time_reference(device: str) -> float:
    """The reference script's structure: PIL images -> per-item transforms -> DataLoader."""
    import torchvision.transforms as T
    from PIL import Image

    from ..data import load_dataset

    ds = load_dataset("fashion", "train")
    tf = T.Compose([T.Resize(28), T.ToTensor(), T.Normalize([0.5], [0.5])])

    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return tf(Image.fromarray(ds.images[i, 0].numpy(), mode="L")), int(ds.labels[i])

    loader = torch.utils.data.DataLoader(Items(), batch_size=64, shuffle=True)
    G, D = _RefG().to(device), _RefD().to(device)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    mse = nn.MSELoss()
    t_start = None
    for i, (imgs, labels) in enumerate(loader):
        if i == WARMUP:
            t_start = time.perf_counter()
        if i == WARMUP + TRAIN_STEPS:
            break
        real, labels = imgs.to(device), labels.to(device)
        valid = torch.ones(len(real), 1, device=device)
        fake_t = torch.zeros(len(real), 1, device=device)
        z = torch.randn(len(real), 100, device=device)
        gl = torch.randint(0, 10, (len(real),), device=device)
        opt_G.zero_grad()
        gen = G(z, gl)
        mse(D(gen, gl), valid).backward()
        opt_G.step()
        opt_D.zero_grad()
        d_loss = (mse(D(real, labels), valid) + mse(D(gen.detach(), gl), fake_t)) / 2
        d_loss.backward()
        opt_D.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return TRAIN_STEPS * 64 / (time.perf_counter() - t_start)


def bench_train(device: str) -> dict:
    ours = _time_engine(device)
    ref = _time_reference(device)
    return {"engine_img_per_s": round(ours), "reference_img_per_s": round(ref),
            "speedup": round(ours / ref, 2), "engine_it_per_s": round(ours / 64, 1),
            "device": device, "threads": torch.get_num_threads()}


def _grid_times(model: str, **controls) -> list[float]:
    from .. import api
    from ..images.convert import grid

    labels = [k for k in range(10) for _ in range(10)]
    api.sample(model, 100, 0, labels=labels, **controls)   # warm: load + first call
    times = []
    for i in range(20):
        t = time.perf_counter()
        grid(api.sample(model, 100, i, labels=labels, **controls), nrow=10)
        times.append(time.perf_counter() - t)
    return times


def bench_sample(device: str) -> dict:
    cgan, biggan = _grid_times("cgan-mnist"), _grid_times("biggan-fashion", truncation=0.5)
    return {"grid100_ms_median": round(1000 * statistics.median(cgan), 1),
            "grid100_ms_max": round(1000 * max(cgan), 1),
            "biggan_grid100_ms_median": round(1000 * statistics.median(biggan), 1),
            "biggan_grid100_ms_max": round(1000 * max(biggan), 1)}


def bench_fid(device: str) -> dict:
    """FID of 10,000 generated 28x28 images vs cached real statistics, domain feature network."""
    from ..eval.fidelity import fidelity_metrics
    from ..models import load_model

    model = load_model("dcgan-fashion", device)
    fidelity_metrics(model, ["fid"], n=500, seed=0, prefer="domain")   # fills the real-data cache
    t = time.perf_counter()
    res = fidelity_metrics(model, ["fid"], n=10_000, seed=0, prefer="domain")
    return {"fid10k_s": round(time.perf_counter() - t, 1), "fid": res["values"]["frechet_inception_distance"],
            "feature_network": res["feature_network"]}


def bench_sr(device: str) -> dict:
    """srresnet-x4 on a 128x128 input -> 512x512 output, warm, median of 5."""
    from .. import api

    img = (np.random.default_rng(0).random((128, 128, 3)) * 255).astype(np.uint8)
    api.upscale("srresnet-x4", img)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        out = api.upscale("srresnet-x4", img)["sr"]
        times.append(time.perf_counter() - t)
    return {"sr128_to_512_s_median": round(statistics.median(times), 3), "output": list(out.shape)}


def bench_translate(device: str) -> dict:
    """cyclegan-sneaker-boot on one 28x28 image (conversion + translation + reconstruction), warm."""
    from .. import api
    from ..data import load_dataset

    img = load_dataset("fashion:7", "test").images[0].permute(1, 2, 0).numpy()
    api.translate("cyclegan-sneaker-boot", img, "a2b")
    times = []
    for _ in range(20):
        t = time.perf_counter()
        api.translate("cyclegan-sneaker-boot", img, "a2b")
        times.append(time.perf_counter() - t)
    return {"translate_ms_median": round(1000 * statistics.median(times), 1)}


def bench_mix(device: str) -> dict:
    """api.style_mix with 6 row and 6 column seeds (coarse crossover), warm, median of 20."""
    from .. import api

    api.style_mix("stylegan-fashion", range(6), range(10, 16))
    times = []
    for i in range(20):
        t = time.perf_counter()
        api.style_mix("stylegan-fashion", range(i, i + 6), range(100 + i, 106 + i), "coarse")
        times.append(time.perf_counter() - t)
    return {"mix6x6_ms_median": round(1000 * statistics.median(times), 1)}


def bench_text(device: str) -> dict:
    """tedigan-fashion: a 16-image grid from a prompt not seen before (sentence encoding included;
    each repeat uses a new prompt so no cached embedding helps), warm, median of 20; and one edit of
    each kind: shade (text -> W's step) and width (optimised against the matcher)."""
    from .. import api

    api.text_to_image("tedigan-fashion", "a dark ankle boot", 16, 0)      # warm: encoder + model loaded
    times = []
    for i in range(20):
        t = time.perf_counter()
        api.text_to_image("tedigan-fashion", f"a light dress number {i}", 16, i)
        times.append(time.perf_counter() - t)
    edits = {}
    for key, instruction in (("edit_shade_ms", "make it darker"), ("edit_width_ms", "make it wider")):
        t = time.perf_counter()
        api.edit("tedigan-fashion", 0, instruction, 1.0)
        edits[key] = round(1000 * (time.perf_counter() - t), 1)
    return {"prompt16_ms_median": round(1000 * statistics.median(times), 1), "prompt16_ms_max": round(1000 * max(times), 1),
            **edits}


def bench_lessons(device: str) -> dict:
    """Each Learn-tab experiment once, cold for its lesson (models load on first use), in seconds."""
    from .. import api

    out = {}
    for lesson in api.list_lessons():
        t = time.perf_counter()
        api.run_lesson(lesson["name"])
        out[f"{lesson['name']}_s"] = round(time.perf_counter() - t, 2)
    out["slowest_s"] = max(out.values())
    return out


def bench_bf16(device: str) -> dict:
    """fp32 vs bf16-autocast images of every shipped generator on fixed probes (uint8 levels): the
    check that decides bf16 inference on a GPU (capabilities/precision.py), run on `device`."""
    from ..capabilities.precision import measure
    from ..models import load_model
    from ..registry import shipped_models

    dev = "cuda" if device == "cuda" else "cpu"
    return {name: measure(load_model(name, dev), dev) for name in shipped_models()}


def bench_app() -> dict:
    from ..errors import PlaygroundError
    from .loadtest import free_port, serve_app

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="playground-bench-") as runs:
        t = time.perf_counter()
        try:
            proc = serve_app(port, runs)
        except PlaygroundError as e:
            return {"start_to_serving_s": None, "error": str(e)}
        elapsed = time.perf_counter() - t
        proc.terminate()
        proc.wait(timeout=10)
    return {"start_to_serving_s": round(elapsed, 2)}


TARGETS = {  # the numbers the issues name, shown beside each measurement
    "train": "speedup >= 2x on CPU (>= 4x the reference's GPU it/s on CUDA)",
    "sample": "grid100_ms_median < 50 on CPU (both models)",
    "app": "start_to_serving_s < 8",
    "fid": "fid10k_s < 60 on CPU (domain features, cached real statistics)",
    "sr": "sr128_to_512_s_median < 1.5 on CPU",
    "translate": "translate_ms_median < 100 on CPU",
    "mix": "mix6x6_ms_median < 300 on CPU",
    "text": "prompt16_ms_median < 300 on CPU (warm)",
    "lessons": "slowest_s < 20 on CPU (each experiment, one click)",
    "bf16": "bf16_ok where mean <= 0.5 and p99 <= 3 uint8 levels (then a GPU serves that model in bf16)",
    "families": ">= 4x the peer's it/s at batch 64 on CUDA; >= 100k img/s for the CGAN MLP at a large batch on "
                "one H100/H200",
}


def run_bench(only: list[str], device: str = "cpu") -> dict:
    jobs = {"train": lambda: bench_train(device), "sample": lambda: bench_sample(device), "app": bench_app,
            "fid": lambda: bench_fid(device), "sr": lambda: bench_sr(device),
            "translate": lambda: bench_translate(device), "mix": lambda: bench_mix(device),
            "text": lambda: bench_text(device), "lessons": lambda: bench_lessons(device),
            "families": lambda: bench_families(device), "bf16": lambda: bench_bf16(device)}
    results = {}
    for name, job in jobs.items():
        if only and name not in only:
            continue
        results[name] = job()
        print(f"{name:<7} {results[name]}   target: {TARGETS[name]}", flush=True)
    return results
