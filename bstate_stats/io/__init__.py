"""Ground floor used by every stage: atomic writes, provenance (hashes, versions) and owned run folders."""
