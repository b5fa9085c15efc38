"""One module per GAN family. Each defines:

    NAME          registry name
    CONDITIONAL   whether G takes class labels (needs a labelled dataset)
    Config        dataclass of hyperparameters and shapes (saved in config.json)
    build(cfg)    -> dict of nets, "G" first
    optimizers(cfg, nets) -> dict of optimisers
    train_step(ctx) -> dict of named scalar losses
"""
