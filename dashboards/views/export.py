"""Export: the workbook, tables, REFI-QDA project and codebook, and the findings report, to download."""

from __future__ import annotations

import functools

import streamlit as st

import loaders
from toolkit import schema as s

st.title("Export")
study = loaders.study()
stem = study.root.name
st.caption("Every export holds pseudonymised text only. Pseudonymisation can miss an identifier: read a quote "
           "before you publish it. A file is written when you press its button.")
if loaders.status().counts.get(s.SOURCES, 0) == 0:
    st.info(f"No sources yet: run `{loaders.command('ingest')}` and `{loaders.command('code')}` first.")
    st.stop()

EXPORTS = [
    ("Findings report (Word)", "report", f"{stem}_findings.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", False),
    ("Findings report (web page)", "report", f"{stem}_findings.html", "text/html", False),
    ("Excel workbook", "xlsx", f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     True),
    ("Codings and segment matrix (CSV, zipped)", "csv", f"{stem}.csv", "application/zip", True),
    ("REFI-QDA project (NVivo, ATLAS.ti, MAXQDA)", "qdpx", f"{stem}.qdpx", "application/zip", True),
    ("REFI-QDA codebook", "qdc", f"{stem}.qdc", "application/xml", True),
]
researcher = loaders.is_researcher()
if not researcher:
    st.info("Reviewers can download the findings report; the full data exports are for researchers.")

for label, fmt, name, mime, full in EXPORTS:
    if full and not researcher:
        continue
    file_name = name if fmt != "csv" else f"{stem}_csv.zip"
    st.download_button(label, data=functools.partial(loaders.export_bytes, loaders.study_path(), fmt, name), file_name=file_name,
                       mime=mime, key=f"export-{fmt}-{name}", on_click="ignore")

if researcher:
    st.subheader("Framework matrix")
    for rows in loaders.row_dimensions():  # the study's own case attributes too
        st.download_button(f"Framework matrix by {rows.replace('_', ' ')} (CSV, with the segments behind each cell)",
                           data=functools.partial(loaders.matrix_csv, loaders.study_path(), rows),
                           file_name=f"{stem}_matrix_{rows}.csv", mime="text/csv", key=f"export-matrix-{rows}", on_click="ignore")
