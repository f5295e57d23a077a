"""Session stores: the contract, and one module per backend."""

from .base import Record, Store
from .memory import MemoryStore

__all__ = ["MemoryStore", "Record", "Store"]
