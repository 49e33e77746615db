"""Colours for labels that were given none: deterministic and distinct.

A label without a colour takes the first colour of a fixed palette that no
other label of the project uses (compared case-insensitively); past the
palette, hues are spread by the golden angle until one is free. The same
request therefore always yields the same colours.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterator, Sequence

# Well-separated, readable on white and dark backgrounds (Material 500 tones).
PALETTE = (
    "#F44336",
    "#2196F3",
    "#4CAF50",
    "#FF9800",
    "#9C27B0",
    "#00BCD4",
    "#FFEB3B",
    "#795548",
    "#E91E63",
    "#3F51B5",
    "#8BC34A",
    "#FF5722",
    "#673AB7",
    "#009688",
    "#CDDC39",
    "#607D8B",
    "#03A9F4",
    "#FFC107",
)

GOLDEN_RATIO_CONJUGATE = 0.618033988749895


def _spread_hues() -> Iterator[str]:
    index = 0
    while True:
        hue = (index * GOLDEN_RATIO_CONJUGATE) % 1.0
        lightness = (0.45, 0.6, 0.35)[(index // 12) % 3]
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.7)
        yield f"#{round(red * 255):02X}{round(green * 255):02X}{round(blue * 255):02X}"
        index += 1


def assign_colors(colors: Sequence[str | None]) -> list[str]:
    """Fill the None entries of colors with colours none of the others use."""
    used = {color.upper() for color in colors if color}
    candidates = iter(PALETTE)
    spread = _spread_hues()
    result: list[str] = []
    for color in colors:
        if color:
            result.append(color)
            continue
        chosen = next((c for c in candidates if c not in used), None)
        while chosen is None or chosen in used:
            chosen = next(spread)
        used.add(chosen)
        result.append(chosen)
    return result
