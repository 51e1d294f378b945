"""The read side: the published catalogue as the public sees it, answered from an
in-memory index (index.py) kept fresh by the change log (freshness.py)."""
