"""Colours as `#rrggbb`, and how readable white text is on one (WCAG 2.1)."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2.1 AA for normal text: buttons carry white words on the accent colour.
MINIMUM_CONTRAST = 4.5


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of `#rrggbb` against white (1 to 21)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)
