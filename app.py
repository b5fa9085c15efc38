"""GAN Playground web app: `python app.py [--host H] [--port P] [--share]`."""

from __future__ import annotations

import argparse
import os


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="GAN Playground web app")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from playground.ui.zerogpu import import_spaces, on_zerogpu

    import_spaces()  # on Hugging Face Spaces `spaces` must come before anything touches CUDA
    import torch

    # Serving many visitors at once: one thread per request beats requests fighting over every
    # core (8 clients x /generate on 2 cores: see docs/performance.md). PLAYGROUND_TORCH_THREADS=0
    # keeps torch's default.
    threads = int(os.environ.get("PLAYGROUND_TORCH_THREADS", "1"))
    if threads > 0:
        torch.set_num_threads(threads)
    from playground.ui.app import build_app, launch_kwargs

    if on_zerogpu():  # ZeroGPU wants models on the device at start-up; it replays that per lease
        from playground import api

        for name in api.shipped_model_names():
            api.load(name)
    demo = build_app()
    demo.queue(default_concurrency_limit=int(os.environ.get("PLAYGROUND_CONCURRENCY", "4")))
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_kwargs())
    except Exception as e:  # noqa: BLE001 - share tunnels fail offline; serve locally instead
        if not args.share:
            raise
        print(f"Could not create a share link ({e}); serving locally only.")
        demo.launch(server_name=args.host, server_port=args.port, share=False, **launch_kwargs())


if __name__ == "__main__":
    main()
