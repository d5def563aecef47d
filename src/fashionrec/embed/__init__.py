"""Image embeddings: backbone registry, preprocessing, runtimes and resumable catalog encoding.

Example:
    >>> from fashionrec.embed import create_embedder
    >>> emb = create_embedder("tiny", runtime="torch")
    >>> emb.dim
    64
"""

from fashionrec.embed.batch import EmbedResult, embed_files
from fashionrec.embed.encoder import Embedder
from fashionrec.embed.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE_MEAN,
    LITE_STD,
    PreprocessCfg,
    preprocess_batch,
    preprocess_image,
)
from fashionrec.embed.registry import (
    DEFAULT_EMBEDDER,
    create_embedder,
    embedder_info,
    list_embedders,
    register_embedder,
)

__all__ = [
    "DEFAULT_EMBEDDER",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LITE_MEAN",
    "LITE_STD",
    "EmbedResult",
    "Embedder",
    "PreprocessCfg",
    "create_embedder",
    "embed_files",
    "embedder_info",
    "list_embedders",
    "preprocess_batch",
    "preprocess_image",
    "register_embedder",
]
