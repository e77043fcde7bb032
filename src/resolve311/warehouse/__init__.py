"""The DuckDB warehouse: current state, every version, quarantine, run ledger."""
