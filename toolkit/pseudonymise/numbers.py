"""Numbers that identify, each checked by its own rule: payment cards (Luhn), IBANs (mod-97),
sort codes and account numbers (after a cue), IP addresses (valid octets; IPv6 parsed).

NHS numbers (modulus 11) live in :mod:`~toolkit.pseudonymise.detectors` with the other
identifiers of people. We write these checks ourselves: each is a few lines of arithmetic from
its standard (ISO/IEC 7812 for Luhn, ISO 13616 for IBANs), cheaper than a dependency.
"""

from __future__ import annotations

import ipaddress
import re

from toolkit.pseudonymise.detectors import Span, _finditer
from toolkit.pseudonymise.rules import IdentifierRules, load_rules

# IBAN lengths by country (ISO 13616 registry), for the countries people here write most; others: 15-34.
_IBAN_LENGTHS = {
    "GB": 22, "IE": 22, "DE": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "BE": 16, "PT": 25, "PL": 28,
    "RO": 24, "LT": 20, "LV": 21, "CH": 21, "AT": 20, "DK": 18, "SE": 24, "NO": 15, "FI": 18, "GR": 27,
}


_GROUPED_CARD = re.compile(r"\d{4}([ -])\d{4}\1\d{4}\1\d{4}")


def luhn_is_valid(number: str) -> bool:
    """The Luhn check of payment card numbers (13-19 digits).

    Examples
    --------
    >>> luhn_is_valid("4532 0123 4567 8901"), luhn_is_valid("4532 0123 4567 8902")
    (False, False)
    >>> luhn_is_valid("4243 2903 8311 2469")
    True
    """
    digits = re.sub(r"[\s-]", "", number)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(int(c) for c in reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_is_valid(iban: str) -> bool:
    """The ISO 13616 mod-97 check (and the length for known countries).

    Examples
    --------
    >>> iban_is_valid("GB29 NWBK 6016 1331 9268 19"), iban_is_valid("GB29 NWBK 6016 1331 9268 18")
    (True, False)
    """
    compact = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    if _IBAN_LENGTHS.get(compact[:2], len(compact)) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_bank_cards(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Payment card numbers, grouped or not, that pass the Luhn check (or, grouped in fours, follow a
    cue such as "card" or "Visa": a number someone mistyped is still theirs).

    Examples
    --------
    >>> [s.text for s in find_bank_cards("Card 4243 2903 8311 2469, ref 4243 2903 8311 2468.")]
    ['4243 2903 8311 2469']
    """
    rules = rules or load_rules()
    window = int(rules.numbers.get("bank_cue_window", 40))
    cue = rules.patterns.get("card_cue")
    spans = []
    for span in _finditer(rules.patterns["bank_card"], text, "bank_card"):
        if luhn_is_valid(span.text):
            spans.append(span)
        elif cue is not None and _GROUPED_CARD.fullmatch(span.text) and _after_cue(text, span, cue, window):
            spans.append(span)  # a mistyped card number is still one: recall first
    return spans


def find_ibans(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """IBANs, in groups of four or not, that pass the mod-97 check (a match running into the next
    word is cut back to the longest valid IBAN).

    Examples
    --------
    >>> [s.text for s in find_ibans("IBAN GB29 NWBK 6016 1331 9268 19 for expenses")]
    ['GB29 NWBK 6016 1331 9268 19']
    """
    rules = rules or load_rules()
    spans = []
    for span in _finditer(rules.patterns["iban"], text, "iban"):
        candidate = span.text
        while candidate:
            if iban_is_valid(candidate):
                spans.append(Span(span.start, span.start + len(candidate), "iban", candidate))
                break
            if " " not in candidate:
                break
            candidate = candidate.rsplit(" ", 1)[0]
    return spans


def _after_cue(text: str, span: Span, cue: re.Pattern, window: int) -> bool:
    before = text[max(0, span.start - window):span.start]
    return cue.search(before) is not None


def find_sort_codes(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """UK sort codes (``60-16-13``, ``60 16 13``, ``601613``) after a cue such as "sort code".

    Examples
    --------
    >>> [s.text for s in find_sort_codes("Sort code 60-16-13; meeting on 12-03-24.")]
    ['60-16-13']
    """
    rules = rules or load_rules()
    window = int(rules.numbers.get("bank_cue_window", 40))
    cue = rules.patterns["sort_cue"]
    return [s for s in _finditer(rules.patterns["sort_code"], text, "sort_code") if _after_cue(text, s, cue, window)]


def find_account_numbers(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """Eight-digit UK account numbers after a cue ("account", "acct", "a/c").

    Examples
    --------
    >>> [s.text for s in find_account_numbers("account number is 31926819; ticket 31926820")]
    ['31926819']
    """
    rules = rules or load_rules()
    window = int(rules.numbers.get("bank_cue_window", 40))
    cue = rules.patterns["account_cue"]
    return [s for s in _finditer(rules.patterns["account_number"], text, "account_number")
            if _after_cue(text, s, cue, window)]


def find_ip_addresses(text: str, rules: IdentifierRules | None = None) -> list[Span]:
    """IPv4 addresses (valid octets) and IPv6 addresses (parsed by :mod:`ipaddress`).

    Examples
    --------
    >>> [s.text for s in find_ip_addresses("Server 192.168.1.42, v6 2001:db8::1, version 3.2.1, at 10:30.")]
    ['192.168.1.42', '2001:db8::1']
    """
    rules = rules or load_rules()
    spans = list(_finditer(rules.patterns["ipv4"], text, "ip_address"))
    for span in _finditer(rules.patterns["ipv6"], text, "ip_address"):
        if span.text.count(":") < 2:
            continue
        try:
            ipaddress.IPv6Address(span.text)
        except ValueError:
            continue
        spans.append(span)
    return spans


FINDERS = (find_bank_cards, find_ibans, find_sort_codes, find_account_numbers, find_ip_addresses)
"""The detectors of this module, in the order :func:`~toolkit.pseudonymise.detectors.find_identifiers` runs them."""
