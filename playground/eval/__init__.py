"""Evaluation: the project's own domain classifiers and the metrics built on them."""
