"""fashionrec.web: the shop front (HTML pages and static files) over the HTTP API."""

from fashionrec.web.pages import install_web

__all__ = ["install_web"]
