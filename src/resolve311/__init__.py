"""resolve311: a daily review of how well each city agency resolves its 311 requests."""

__version__ = "0.1.0"
