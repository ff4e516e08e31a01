"""The format-neutral shape every loader produces: an ordered list of blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "list_item", "table"]


@dataclass
class Block:
    kind: BlockKind
    text: str
    level: int = 0  # heading level (1 = title); 0 for body blocks
    page: int | None = None


@dataclass
class LoadedDocument:
    """Blocks plus the text they join into; offsets of chunks refer to ``text``."""

    blocks: list[Block]
    title: str | None = None
    pages: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    SEPARATOR = "\n\n"

    def layout(self) -> tuple[str, list[tuple[int, int]]]:
        """Join the blocks; return the text and each block's (start, end) in it."""
        parts: list[str] = []
        spans: list[tuple[int, int]] = []
        pos = 0
        for i, block in enumerate(self.blocks):
            if i:
                parts.append(self.SEPARATOR)
                pos += len(self.SEPARATOR)
            parts.append(block.text)
            spans.append((pos, pos + len(block.text)))
            pos += len(block.text)
        return "".join(parts), spans


class LoadError(Exception):
    """A file that cannot be ingested; the message is the reason shown to the user."""
