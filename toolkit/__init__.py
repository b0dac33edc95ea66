"""Toolkit: local, pseudonymising qualitative analysis of interviews and surveys.

The public API, for notebooks and the dashboard alike::

    import toolkit
    study = toolkit.open_study("interviews")  # a study folder (always given: no fallback to the sample)
    study.status()                          # what is in the store, what to run next
    study.quotes(place="Fernmouth", theme="legal_basis_consent", polarity="barrier")
    study.framework_matrix(rows="place")    # places x themes, with the segments behind each cell
    study.topics()                          # inductive topics beside the codebook
    toolkit.plots.plot_polarity_bars(study.theme_counts(by="place"))

Names are imported on first use (``toolkit.open_study`` loads :mod:`toolkit.api`), so
``import toolkit`` does no work.
"""

__version__ = "0.1.0"

_LAZY = {
    "open_study": ("toolkit.api", "open_study"),
    "Study": ("toolkit.api", "Study"),
    "study_from_env": ("toolkit.api", "study_from_env"),
    "load_config": ("toolkit.config", "load_config"),
    "run_study": ("toolkit.pipeline", "run_study"),
    "load_codebook": ("toolkit.codebook", "load_codebook"),
    "agreement_report": ("toolkit.agreement", "agreement_report"),
}

__all__ = ["__version__", "analysis", "plots", *_LAZY]


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in ("plots", "api", "topics", "analysis"):
        return importlib.import_module(f"toolkit.{name}")
    raise AttributeError(f"module 'toolkit' has no attribute '{name}'")
