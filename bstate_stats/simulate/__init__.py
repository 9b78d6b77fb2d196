"""Simulated data with known truth: the reference case study, and panels of any outcome family.

>>> import bstate_stats as bs
>>> study = bs.simulate.case_study(seed=7)
>>> churn = bs.simulate.family_study("binomial", seed=1)
"""

from bstate_stats.simulate.case_study import THRESHOLD, CaseStudy, CaseStudyParameters, CaseStudyTruth, case_study, prob_above
from bstate_stats.simulate.families import FamilyStudy, family_study

__all__ = ["THRESHOLD", "CaseStudy", "CaseStudyParameters", "CaseStudyTruth", "FamilyStudy", "case_study", "family_study", "prob_above"]
