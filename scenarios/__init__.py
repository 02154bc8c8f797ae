"""Scenarios: what-if changes, stresses and Monte Carlo studies over twins.

`scenarios/examples/` ships ready twins. The study runner arrives with the Monte Carlo
issue; until then this package holds the examples only.
"""
