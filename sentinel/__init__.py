"""slotd's Sentinel process (DESIGN.md section 6): not built yet.

The package exists so the distribution's layout and its `slotd-sentinel` console script
are in place; the Sentinel state machines and shell come with their own issue."""
