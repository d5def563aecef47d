"""Build, open and update an index directory: catalog → embeddings → vector index."""

from fashionrec.pipeline.build import add_products, build_index, remove_products
from fashionrec.pipeline.layout import IndexDir, Manifest

__all__ = ["IndexDir", "Manifest", "add_products", "build_index", "remove_products"]
