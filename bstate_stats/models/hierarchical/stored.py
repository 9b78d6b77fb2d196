"""What a saved posterior carries in its attrs: specification, priors, metadata and ledger, read back."""

from __future__ import annotations

import json
from dataclasses import fields

import arviz as az

from bstate_stats.errors import SpecificationError
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.spec import HierarchicalSpec
from bstate_stats.panel.ledger import ExclusionLedger, LedgerEntry

REQUIRED_ATTRS = ("bstate_spec", "bstate_priors", "bstate_meta", "bstate_ledger", "bstate_data_hash")


def read_attrs(idata: az.InferenceData, source: str) -> tuple[HierarchicalSpec, Priors, dict, ExclusionLedger]:
    """The specification, priors, metadata and ledger stored with a posterior.

    Parameters
    ----------
    idata
        A posterior written by :meth:`HierarchicalResults.save`.
    source
        Where it came from, for the error message.

    Returns
    -------
    tuple
        ``(spec, priors, meta, ledger)``.
    """
    attrs = idata.attrs
    missing = [k for k in REQUIRED_ATTRS if k not in attrs]
    if missing:
        raise SpecificationError(f"{source}: not a bstate_stats posterior (attrs {missing} missing)")
    try:
        raw = json.loads(attrs["bstate_spec"])
        raw["drivers"] = tuple(raw["drivers"])
        raw["varying"] = None if raw.get("varying") is None else tuple(raw["varying"])
        spec = HierarchicalSpec(**raw)
        stored_priors = json.loads(attrs["bstate_priors"])
        priors = Priors(**{f.name: stored_priors[f.name] for f in fields(Priors)})
        ledger_raw = json.loads(attrs["bstate_ledger"])
        ledger = ExclusionLedger(ledger_raw["n_input"], [LedgerEntry(e["reason"], tuple(tuple(r) for r in e["rows"])) for e in ledger_raw["entries"]])
        meta = json.loads(attrs["bstate_meta"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecificationError(f"{source}: written by another version of bstate_stats, its attrs cannot be read ({exc})") from None
    meta["bounds"] = tuple(meta["bounds"]) if meta.get("bounds") else None
    return spec, priors, meta, ledger
