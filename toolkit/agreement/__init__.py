"""Inter-coder agreement: Cohen's kappa, Krippendorff's alpha, confusion tables, scores.

Several coders (people, and the machine coder) code the same segments. This package
says how far they agree, per theme and overall, the way NVivo, ATLAS.ti and MAXQDA
report it, and scores the machine coder against a gold standard.

* :mod:`~toolkit.agreement.measures`: percent agreement, Cohen's kappa and confusion tables
  (scikit-learn), Krippendorff's alpha (all levels, missing values);
* :mod:`~toolkit.agreement.report`: two coders on long-format codings, per label and overall;
  :func:`classification_report_frame` against gold;
* :mod:`~toolkit.agreement.coders`: a study's coders compared (reads the store).
"""

from toolkit.agreement.coders import CoderComparison, agreement_codings, compare_coders
from toolkit.agreement.measures import (
    LEVELS,
    TOTAL,
    AgreementError,
    cohen_kappa,
    confusion_table,
    krippendorff_alpha,
    percent_agreement,
)
from toolkit.agreement.report import AgreementReport, agreement_report, classification_report_frame
from toolkit.schema import PRIMARY, UNIT_ID

__all__ = [
    "LEVELS",
    "PRIMARY",
    "TOTAL",
    "UNIT_ID",
    "AgreementError",
    "AgreementReport",
    "CoderComparison",
    "agreement_codings",
    "agreement_report",
    "classification_report_frame",
    "cohen_kappa",
    "compare_coders",
    "confusion_table",
    "krippendorff_alpha",
    "percent_agreement",
]
