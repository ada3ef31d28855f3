"""The inks documents print with: black only (K) by default, the agency's colours as an option.

A notice printed in RGB is separated by the print shop's RIP into four inks: the old navy and greys came
out as about 15.7 % C/M/Y on every page (billed as colour) and the barcodes as "rich black", four
plates that never register exactly, which blurs the bars a scanner reads. Everything here is CMYK:
- `MONO` (the default, setting `mail.colour` off): every colour is a tint of K alone (0 0 0 k), the
  barcodes are solid K (0 0 0 1 k) and photos print as DeviceGray images;
- `COLOUR`: the agency navy and the alert red are CMYK process colours on the notices' and letters'
  furniture (bars, boxes, titles); text, rules, barcodes and photos stay K exactly as in `MONO`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.colors import CMYKColor


def k(tint: float) -> CMYKColor:
    """A tint of black ink alone (0 = paper, 1 = solid K)."""
    return CMYKColor(0, 0, 0, tint)


@dataclass(frozen=True)
class Palette:
    """The colours one document prints with (all CMYK)."""

    name: str
    ink: CMYKColor  # body text
    accent: CMYKColor  # agency colour: titles, section bars, box outlines
    rule: CMYKColor  # hairlines, fold marks
    shade: CMYKColor  # box fills
    alert: CMYKColor  # warnings (REPRINT, mismatches)
    grey: CMYKColor  # labels, captions
    ok: CMYKColor  # verified marks (hearing packet)
    black: CMYKColor  # barcodes: always solid K
    paper: CMYKColor  # text reversed out of a bar


MONO = Palette("mono", ink=k(0.9), accent=k(0.85), rule=k(0.4), shade=k(0.06), alert=k(1.0), grey=k(0.72),
               ok=k(0.9), black=k(1.0), paper=k(0.0))

COLOUR = Palette("colour", ink=k(0.9), accent=CMYKColor(0.67, 0.39, 0, 0.63), rule=k(0.4), shade=k(0.06),
                 alert=CMYKColor(0, 0.78, 0.78, 0.45), grey=k(0.72), ok=CMYKColor(0.72, 0, 0.53, 0.58),
                 black=k(1.0), paper=k(0.0))


def palette(colour: bool) -> Palette:
    return COLOUR if colour else MONO
