"""The search language over run info: ``where`` expressions and ``order_by`` keys (see docs/search.md)."""

from gemini.query.parser import parse_order_by, parse_path, parse_where

__all__ = ["parse_order_by", "parse_path", "parse_where"]
