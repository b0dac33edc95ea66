"""Exports researchers hand on: spreadsheets, REFI-QDA projects, the findings report.

Every exporter reads an :class:`~toolkit.export.data.ExportData` snapshot of the
store (pseudonymised data only) and writes one file.
"""
