"""Text search that understands shoppers (issue #11).

Example:
    >>> from fashionrec.text import TextSearcher, parse_query
    >>> parse_query("navy formal shirt for men", {"article_type": ["Shirts"]}).shown
    ['Shirts']
"""

from fashionrec.text.query import ParsedQuery, QueryParser, parse_query
from fashionrec.text.search import MODES, TextResult, TextSearcher

__all__ = ["MODES", "ParsedQuery", "QueryParser", "TextResult", "TextSearcher", "parse_query"]
