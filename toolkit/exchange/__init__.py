"""Exchange with other qualitative-analysis software.

- :mod:`toolkit.exchange.refi`: REFI-QDA projects (``.qdpx``) and codebooks (``.qdc``) for NVivo,
  ATLAS.ti, MAXQDA and QualCoder, and a codebook CSV for Taguette: writers, a pure reader, the
  matcher that finds a project's selections among the study's segments, and schema validation.

Writers read an export snapshot (pseudonymised data only); readers return frames and never write
to the store (imports go through the write model).
"""
