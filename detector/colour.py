"""Is a picture black and white? The bundled model catches far fewer fakes without colour (its card's
`black_and_white` entry, measured by bench/real_photo_cues.py), so such pictures get a warning."""
from __future__ import annotations

import numpy as np

GREY_SPREAD = 8  # levels: JPEG leaves a few levels between the channels of a grey picture
SAMPLE_SIDE = 128  # judged on a strided view about this size: a 50 MP photo costs what a thumbnail does


def is_black_and_white(image: np.ndarray) -> bool:
    """True when 99 % of the pixels have their three channels within GREY_SPREAD levels of each other."""
    if image.ndim < 3 or image.shape[2] < 3:
        return True
    step = max(1, max(image.shape[:2]) // SAMPLE_SIDE)
    c = image[::step, ::step, :3].astype(np.int16)
    spread = c.max(axis=2) - c.min(axis=2)
    return bool(np.count_nonzero(spread > GREY_SPREAD) <= 0.01 * spread.size)  # a count: cheaper than a percentile


def black_and_white_note(card_info: dict) -> str | None:
    """The warning for a black-and-white picture, from the card's measured catch rates; None when the card
    records none, or no source loses more than 10 points of its fakes caught without colour."""
    rates = caught_without_colour(card_info)
    if rates is None:
        return None
    return ("This picture is black and white, and this model misses many more fakes without colour: turned black "
            f"and white, it caught {rates} on validation data. A 'real' verdict means little here.")


def caught_without_colour(card_info: dict) -> str | None:
    """"37% of dfdc-faces fakes (in colour 73%), ..." from the card; None unless some source loses > 10 points."""
    entry = (card_info or {}).get("black_and_white") or {}
    rates = [(name, r["colour"], r["black_and_white"]) for name, r in entry.get("fakes_caught", {}).items()]
    if not any(c - g > 0.10 for _, c, g in rates):
        return None
    return ", ".join(f"{100 * g:.0f}% of {name} fakes (in colour {100 * c:.0f}%)" for name, c, g in rates)
