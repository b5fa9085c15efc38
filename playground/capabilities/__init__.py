"""What a loaded model can do, one module per family kind it serves; `api.py` is the facade.

    sampling.py     sampler, conditional, codes, style: z (and labels) -> images, interpolation
    codes.py        codes: InfoGAN's latent-code sweeps
    attention.py    models with self-attention (SAGAN, BigGAN): a query pixel's attention map
    style.py        style: style mixing, truncation strips, latent walks
    translation.py  translator: image -> image between two domains
    upscaling.py    upscaler: x4 super-resolution, tiled; the check against ground truth
    export.py       every kind: the generator as ONNX (checked with onnxruntime) or TorchScript
    precision.py    every kind: bf16 inference on a GPU where a measured check says images hold
    probes.py       every kind: fixed-seed example inputs (export's trace, the bf16 check)

Each module declares `KINDS` and refuses a model of another kind (`LoadedModel.require`). Adding a
kind means adding a module here and a facade function in api.py.
"""
