"""Behaviour fingerprint: sha256 of what every shipped model makes and of a few-step run per family.

Run it before and after a refactor that must not change behaviour, and diff the two JSON files:

    python scripts/fingerprint.py > before.json      # on the old commit
    python scripts/fingerprint.py > after.json       # on the new one
    diff before.json after.json                       # empty = byte-identical

It uses only `playground.api` (the facade both layouts share). Samples: each shipped model through
the call its kind answers (fixed seeds). Training: each family for 3 steps on fixed data with tiny
widths and seed 1; the hash covers every tensor of the saved model.safetensors and every logged
scalar, printed with repr (all digits).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from playground import api

# family -> (dataset, overrides): small enough for a CPU, one run per family
TRAIN_CASES = {
    "gan": ("mnist5k", {}),
    "dcgan": ("mnist5k", {"width": 8}),
    "cgan": ("mnist5k", {"width": 8, "arch": "conv"}),
    "wgan": ("mnist5k", {"width": 8}),
    "wgan-gp": ("mnist5k", {"width": 8}),
    "infogan": ("mnist5k", {"width": 8}),
    "cyclegan": ("fashion:7,9", {"ngf": 8, "ndf": 8, "n_res": 1}),
    "srgan": ("photos", {"n_blocks": 1, "width": 8, "d_width": 8}),
    "stylegan": ("mnist5k", {"base_channels": 8, "max_channels": 16}),
    "sagan": ("mnist5k", {"ch": 8}),
    "biggan": ("mnist5k", {"ch": 8}),
    "progan": ("mnist5k", {"base_channels": 8, "max_channels": 16, "fade_steps": 1, "stable_steps": 1}),
    "tedigan": ("fashion", {"hidden": 32, "width": 8}),
}


def digest(array) -> str:
    a = np.ascontiguousarray(np.asarray(array))
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()[:16]


def fixed_image(size: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (size, size, channels), dtype=np.uint8)


def sample_prints() -> dict:
    out = {}
    for entry in api.list_models():
        name, kind = entry["name"], api.Kind(entry["kind"])
        if kind in (api.Kind.SAMPLER, api.Kind.CONDITIONAL, api.Kind.CODES, api.Kind.STYLE):
            out[name] = {"sample": digest(api.sample(name, 16, seed=0))}
            if kind is api.Kind.STYLE:
                out[name]["mix"] = digest(api.style_mix(name, [1, 2], [3, 4])["grid"])
            if kind is api.Kind.CODES:
                out[name]["sweep"] = digest(api.code_sweep(name, seed=3, code=0, values=[-1.0, 0.0, 1.0]))
        elif kind is api.Kind.TRANSLATOR:
            out[name] = {"a2b": digest(api.translate_batch(name, "a2b", 8, 0)),
                         "b2a": digest(api.translate_batch(name, "b2a", 8, 0))}
        elif kind is api.Kind.UPSCALER:
            res = api.upscale(name, fixed_image(24, 3))
            out[name] = {"upscale": digest(res["sr"])}
        elif kind is api.Kind.TEXT:
            out[name] = {"text": digest(api.text_to_image(name, "a dark long dress", 8, seed=0))}
    return out


def train_prints(names) -> dict:
    out = {}
    for family in names:
        dataset, overrides = TRAIN_CASES[family]
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            spec = api.TrainSpec(family=family, dataset=dataset, steps=3, batch_size=8, seed=1, out=str(run),
                                 overrides=dict(overrides), log_every=1, sample_every=3, ckpt_every=3,
                                 deterministic=True, threads=1)
            try:
                events = list(api.train(spec))
            except Exception as e:                      # noqa: BLE001 - the fingerprint records it
                out[family] = {"error": f"{type(e).__name__}: {e}"}
                continue
            scalars = [sorted((k, repr(float(v))) for k, v in e.scalars.items()
                              if k not in ("img_per_s", "eta_s"))
                       for e in events if e.kind == "step"]
            weights = load_file(str(run / "model.safetensors"))
            out[family] = {"weights": {k: digest(v) for k, v in sorted(weights.items())},
                           "scalars": hashlib.sha256(repr(scalars).encode()).hexdigest()[:16],
                           "end": f"{events[-1].kind}: {events[-1].message}"}
    return out


def main(argv: list[str]) -> None:
    families = argv or list(TRAIN_CASES)
    result = {"samples": sample_prints() if not argv else {}, "train": train_prints(families)}
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
