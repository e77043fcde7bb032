"""A small bar chart as PNG bytes, drawn without any plotting library (pure).

E-mail clients do not run scripts and many strip inline SVG, so the digest's chart is a
PNG attached to the message and referenced by ``cid:``. Bars are requests created per
day; the grey band behind each bar is that weekday's baseline p10–p90 (its edges drawn
over the bar); the bars of the recent window are dark. Labels live in the HTML around the
image (``alt`` and caption).
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

from resolve311.digest.model import Chart

WIDTH: Final = 560
HEIGHT: Final = 120
PAD: Final = 4
Color = tuple[int, int, int]
WHITE: Final[Color] = (255, 255, 255)
BAND: Final[Color] = (221, 226, 232)
BAR: Final[Color] = (137, 164, 196)
RECENT: Final[Color] = (31, 78, 140)
AXIS: Final[Color] = (120, 120, 120)
EDGE: Final[Color] = (150, 158, 168)


class Canvas:
    """An RGB pixel buffer with filled rectangles."""

    def __init__(self, width: int, height: int, background: Color) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x0 >= x1 or y0 >= y1:
            return
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def render_png(chart: Chart) -> bytes:
    """The chart as a PNG image of ``WIDTH`` × ``HEIGHT`` pixels."""
    canvas = Canvas(WIDTH, HEIGHT, WHITE)
    points = chart.points
    top = max([p.created for p in points] + [p.high or 0.0 for p in points] + [1.0])
    slot = (WIDTH - 2 * PAD) / max(len(points), 1)
    base = HEIGHT - PAD

    def y(value: float) -> int:
        return base - round((HEIGHT - 2 * PAD) * max(value, 0.0) / top)

    first_recent = len(points) - chart.recent_days
    for i, p in enumerate(points):
        x0 = PAD + round(i * slot)
        x1 = PAD + round((i + 1) * slot) - max(1, round(slot * 0.2))
        if p.low is not None and p.high is not None:
            canvas.rect(x0 - 1, y(p.high), x1 + 1, y(p.low) + 1, BAND)
        canvas.rect(x0, y(p.created), x1, base, RECENT if i >= first_recent else BAR)
        if p.low is not None and p.high is not None:  # the band's edges stay visible over the bar
            canvas.rect(x0 - 1, y(p.high), x1 + 1, y(p.high) + 1, EDGE)
            canvas.rect(x0 - 1, y(p.low), x1 + 1, y(p.low) + 1, EDGE)
    canvas.rect(PAD, base, WIDTH - PAD, base + 1, AXIS)
    return canvas.png()
