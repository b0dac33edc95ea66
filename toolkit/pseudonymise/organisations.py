"""Named settings that point to a family, and small places.

Schools and nurseries ("St Wilfred's Primary"), GP practices, surgeries, health centres and
pharmacies ("Riverside Surgery"), employers and other named businesses ("Pellow & Finch
Solicitors"), and places named after a cue ("grew up in Fetcham"). These are candidates: the
layered detector (:mod:`~toolkit.pseudonymise.layers`) drops those without a distinctive word
(the study's own places and organisations, large places and known words are kept).
"""

from __future__ import annotations

from toolkit.pseudonymise.detectors import Span, _finditer
from toolkit.pseudonymise.rules import IdentifierRules, load_rules

SETTING = "setting"
"""The detector name of schools, practices and employers found by these patterns."""
PLACE_CUE = "place_cue"
"""The detector name of places found after a cue."""


def find_schools(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Schools, nurseries and colleges by name (candidates; see the module's note).

    Examples
    --------
    >>> [s.text for s in find_schools("He goes to St Wilfred's Primary; she's at Hollins Park Academy.")]
    ["St Wilfred's Primary", 'Hollins Park Academy']
    """
    rules = rules or load_rules()
    return list(_finditer(rules.patterns["school"], text, "school", SETTING))


def find_gp_practices(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """GP practices, surgeries, health and medical centres, pharmacies and dentists by name.

    Examples
    --------
    >>> [s.text for s in find_gp_practices("We're with Riverside Surgery, not Castle Medical Practice.")]
    ['Riverside Surgery', 'Castle Medical Practice']
    """
    rules = rules or load_rules()
    return list(_finditer(rules.patterns["gp_practice"], text, "gp_practice", SETTING))


def find_employers(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Named businesses, clubs and places of worship ("Pellow & Finch Solicitors"), as organisations.

    Examples
    --------
    >>> [s.text for s in find_employers("Her dad works at Pellow & Finch Solicitors.")]
    ['Pellow & Finch Solicitors']
    """
    rules = rules or load_rules()
    return list(_finditer(rules.patterns["employer"], text, "organisation", SETTING))


def find_place_cues(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Capitalised names after a place cue ("in", "near", "moved to", "grew up in"), as places.

    Examples
    --------
    >>> [s.text for s in find_place_cues("I grew up in Fetcham, near Little Barrow, in March.")]
    ['Fetcham', 'Little Barrow', 'March']
    """
    rules = rules or load_rules()
    return list(_finditer(rules.patterns["place_cue"], text, "place", PLACE_CUE))


FINDERS = (find_schools, find_gp_practices, find_employers, find_place_cues)
