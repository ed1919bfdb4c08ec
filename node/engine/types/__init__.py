"""Value classes for the non-string Redis types, one module per type. Pure data structures:
each defines `TYPE` (what TYPE replies), `encoding()` (what OBJECT ENCODING replies, following
Redis's config thresholds) and `copy()` (for COPY)."""
