"""Optimisation: search the plans a file allows for the best one that meets the targets.

>>> from optimize import load_problem, optimize, summarize
>>> problem = load_problem("scenarios/examples/clinic_optimize.yaml")
>>> outcome = optimize(problem, executor="serial")
>>> summary = summarize(outcome)   # the `twin optimize --json` object
"""

from optimize.problem import Problem, load_problem
from optimize.search import Outcome, optimize
from optimize.summary import summarize

__all__ = ["Outcome", "Problem", "load_problem", "optimize", "summarize"]
