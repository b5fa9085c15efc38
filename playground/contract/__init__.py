"""The contract every layer builds on: the family protocol, self-describing settings, resources.

Layers, bottom up (tests/test_protocol.py checks that imports only point down):

    contract -> nn / losses / data / images / ... -> families -> registry -> engine -> models
    -> eval -> capabilities -> api / server -> ui / cli / tools
"""

from .protocol import GENERATOR_PROTOCOLS, NOISE_KINDS, CodesGenerator, Family, Generator, Kind, Phase, StyleGenerator, TextGenerator, TranslatorGenerator, UpscalerGenerator, pad_to_power_of_two
from .resources import Resources
from .settings import (AdamConfig, BaseConfig, LearningRateConfig, Setting, TTURConfig, make_config, schema,
                       setting, settable)

__all__ = ["GENERATOR_PROTOCOLS", "NOISE_KINDS", "CodesGenerator", "Family", "Generator", "Kind", "Phase",
           "StyleGenerator", "TextGenerator", "TranslatorGenerator", "UpscalerGenerator", "pad_to_power_of_two",
           "Resources", "AdamConfig", "BaseConfig", "LearningRateConfig", "Setting", "TTURConfig", "make_config",
           "schema", "setting", "settable"]
