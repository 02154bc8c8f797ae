"""Visualisation: plotly figures and the self-contained HTML study report.

Figure builders take result tables, study summaries and event traces and return plotly
figures; they never run a simulation (`process_map`, `distributions`, `comparison`, `fan`,
`timeline`, `sensitivity`, `calibration`; colours in `colors`, units in `labels`).
`report.write_report(folder)` reads a `twin study --out` folder (`data.load_study`) and
writes the report; only it re-runs replication 0 traced for the close-up (`replay`).
"""
