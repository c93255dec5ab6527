"""The data-quality gate: profiles of each sync's data, drift against a reference, golden records, the decision."""
