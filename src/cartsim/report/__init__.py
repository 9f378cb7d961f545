"""Report: run folders on disk, figures and the HTML report.

Owns results I/O (Parquet tables and the manifest), the plotly figures and the self-contained
``report.html``. It reads saved tables; it never simulates.

May import from every earlier folder; only the command line imports it.
"""
