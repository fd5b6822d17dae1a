"""What a walker of a network keeps for the tensors read by name (``from:``, merge inputs).

Every walker (costs and receptive field, peak memory, explain, the executor and its memory
estimate) visits the nodes in execution order carrying one value — a receptive field, a
buffer, an array. In a DAG some nodes read an earlier named output instead of the value the
node before them made: the walker keeps that output's value when its producer finishes
(:meth:`Kept.keep`) and hands it to each reader (:meth:`Kept.take`). Readers are counted, so a
value is dropped after its last reader, as the tensor would be (:mod:`convcost.peak`).
"""

from __future__ import annotations

from collections import Counter
from typing import Generic, TypeVar

from convcost.network import Branch, Network

T = TypeVar("T")


class Kept(Generic[T]):
    """The values of named tensors, each kept from its producer to its last reader."""

    __slots__ = ("left", "readers", "values")

    def __init__(self, network: Network, start: T) -> None:
        self.readers: Counter[str] = Counter(network.reads)
        """Readers of each key, in all."""
        self.left: Counter[str] = Counter()
        """Readers of each kept key still to come."""
        self.values: dict[str, T] = {}
        self.keep("", start)

    def keep(self, key: str, value: T) -> int:
        """Keep ``value`` as tensor ``key`` if anything reads it; returns its readers (0: not
        kept)."""
        readers = self.readers.get(key, 0)
        if readers:
            self.values[key] = value
            self.left[key] = readers
        return readers

    def take(self, key: str) -> tuple[T, bool]:
        """The value of tensor ``key`` for one reader, and whether this reader is its last (the
        value is then dropped)."""
        value = self.values[key]
        self.left[key] -= 1
        if self.left[key]:
            return value, False
        del self.values[key]
        del self.left[key]
        return value, True


def branch_input(kept: Kept[T] | None, branch: Branch, value: T) -> T:
    """What ``branch`` starts from: ``value`` (the merge block's input), or the named tensor."""
    if branch.source is None or kept is None:
        return value
    return kept.take(branch.source)[0]
