"""The DX team's workspace: accounts, permissions, review, cycle, exchange, overview and the rest."""
