"""Small tables that render as Markdown in notebooks and the book, and as aligned text elsewhere."""

from __future__ import annotations

import numpy as np


class Table:
    """Rows of cells under a header. Numbers are rounded to ``digits`` decimals for reading."""

    def __init__(self, header, rows, digits: int = 4):
        self.header = [str(h) for h in header]
        self.rows = [[self._cell(v, digits) for v in row] for row in rows]
        if any(len(row) != len(self.header) for row in self.rows):
            raise ValueError("every row needs one cell per header column.")

    @staticmethod
    def _cell(value, digits: int) -> str:
        if isinstance(value, (float, np.floating)):
            return "n/a" if value != value else f"{value:.{digits}f}"
        return str(value)

    def _repr_markdown_(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "|".join("---" for _ in self.header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        widths = [max(len(r[i]) for r in [self.header] + self.rows) for i in range(len(self.header))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        return "\n".join(fmt.format(*r) for r in [self.header] + self.rows)
