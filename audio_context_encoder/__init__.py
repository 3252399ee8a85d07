"""Audio inpainting with a context encoder (Marafioti et al., AES 2019)."""

from audio_context_encoder import config

__all__ = ['config']
