"""GAN Playground: train, evaluate and play with the major GAN families.

Importing this package has no side effects: no downloads, no CUDA calls, no directories made.
The public surface is `playground.api`; the CLI is `python -m playground`.
"""

__version__ = "0.1.0"
