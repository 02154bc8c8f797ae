"""Visualisation: plotly figures and the HTML report, drawn from result tables.

Not built yet (the visualisation issue).
"""
