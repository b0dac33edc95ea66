"""The name book's patterns, kept current without being rebuilt after every new name (issue 18)."""

from __future__ import annotations

from toolkit.pseudonymise.names import Lexicon, NameBook, name_variants
from toolkit.pseudonymise.rules import load_rules

TEXTS = (
    "Dr Fairweather met Wilhelmina Testington and wtestington@example.org on Monday.",
    "Later CORNELIUS PLACEHOLDER said Cornelius would ring Octavius, not cornelius placeholder.",
    "Nobody here is known: the charter helped the practice.",
    "Mr Placeholder and Perpetua Sampleby-Jones wrote to psampleby and to Rufus.",
)


def _book() -> NameBook:
    rules = load_rules()
    return NameBook(Lexicon.build(rules), rules)


def _fresh(book: NameBook) -> NameBook:
    """A book with the same forms, its patterns built from all of them at once."""
    fresh = _book()
    for form, pid in book.forms.items():
        fresh.add(form, pid)
    return fresh


def test_spans_match_a_fresh_build_as_names_are_learnt_between_texts():
    book = _book()
    book.learn(["Wilhelmina Testington"])
    steps = [["Cornelius Placeholder"], ["Zebedee Nonesuch"], ["Perpetua Sampleby-Jones", "Rufus"], ["Octavius"]]
    for step in steps:
        for text in TEXTS:
            assert book.spans(text) == _fresh(book).spans(text)
        book.learn(step)
        assert book.person_id(step[0]) == book.forms[step[0]]
    for text in TEXTS:
        assert book.spans(text) == _fresh(book).spans(text)
    assert book.spans(TEXTS[1]) != []  # the later names are found, not only the first one


def test_a_name_learnt_after_the_patterns_were_built_is_found():
    book = _book()
    book.learn(["Wilhelmina Testington"])
    assert [s.text for s in book.spans("Octavius rang.")] == []
    book.learn(["Octavius Madeupson"])
    assert [s.text for s in book.spans("Octavius rang.")] == ["Octavius"]


def test_indexes_follow_a_form_that_changes_hands():
    book = _book()
    book.learn(["Philippa Inventova", "Ignatius Dummyfield"])
    assert book.person_id("pinventova") == book.forms["Philippa Inventova"]
    book.add("Philippa Inventova", "P07")  # a speaker's code takes the name over
    assert book.person_id("pinventova") == "P07"
    assert book._variants == name_variants(book.forms)
