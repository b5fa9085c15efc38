"""One training loop for every family: a family supplies only `train_step(ctx)`."""
