"""Models: fixed effects (pyfixest, linearmodels), threshold, revenue, specification tests."""
