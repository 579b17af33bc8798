"""Name matching for the knowledge base: the one name index lives in trueorigin.names (see its docstring)."""

from trueorigin.names import NameHit, NameIndex, has_cjk, normalize

__all__ = ["NameHit", "NameIndex", "has_cjk", "normalize"]
