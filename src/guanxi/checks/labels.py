"""Names people read for the word list's categories, and the translation of a finding's
parameters that are labels rather than the writer's own words.

A category is free text a workspace may type; the ones the default list ships with are
codes (``absolute_terms``) named here in both languages. Any other category is shown as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from guanxi.core.errors import N_

# The default list's categories: each names the article of the PRC Advertising Law it runs into.
CATEGORY_LABELS: dict[str, str] = {
    "absolute_terms": N_("absolute claims (Advertising Law, art. 9)"),
    "state_endorsement": N_("state or official endorsement (Advertising Law, art. 9)"),
    "medical_claims": N_("medical claims (Advertising Law, art. 17)"),
    "investment_promises": N_("promised returns (Advertising Law, art. 25)"),
    "efficacy_guarantees": N_("guaranteed effects (Advertising Law, arts. 16 and 18)"),
}
# A finding's parameters whose values are labels to translate, not text from the variant.
TRANSLATED_PARAMS: dict[str, Mapping[str, str]] = {"category": CATEGORY_LABELS}


def category_label(category: str, gettext: Callable[[str], str]) -> str:
    """The category as a person reads it, in the language of ``gettext``."""
    label = CATEGORY_LABELS.get(category)
    return gettext(label) if label else category


def readable_params(
    params: Mapping[str, str | int], gettext: Callable[[str], str]
) -> dict[str, str | int]:
    """``params`` with every label translated (a category code becomes its name)."""
    shown = dict(params)
    for key, labels in TRANSLATED_PARAMS.items():
        value = shown.get(key)
        if isinstance(value, str) and value in labels:
            shown[key] = gettext(labels[value])
    return shown
