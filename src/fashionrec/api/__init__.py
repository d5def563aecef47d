"""HTTP API: `create_app(ApiSettings(index_dir=...))`."""

from fashionrec.api.app import create_app
from fashionrec.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
