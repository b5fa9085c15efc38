"""One module per GAN family; the protocol each follows is written in `protocol.py`.

A family module ends with `FAMILY = Family(...)` and is listed in `registry.FAMILY_MODULES`.
A family imports `losses`, `nn`, `engine.steps` and `protocol`, never another family.
"""
