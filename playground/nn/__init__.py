"""Layers and network bodies shared by several families (a family never imports another)."""
