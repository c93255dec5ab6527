"""Developer entry points run with ``python -m bin.<name>`` (``make demo`` runs ``bin.demo``)."""
