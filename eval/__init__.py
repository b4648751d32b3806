"""`python -m eval` (`make eval`): the travel scenario suite, run with your model and the rules.

See `eval/suite.py` for the scenarios and what each column means, and the README's "Evaluating
a model" section for how to run it.
"""
