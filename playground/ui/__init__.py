"""Gradio UI: one module per tab. No torch math here, only calls into playground.api."""
