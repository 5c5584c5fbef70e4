"""Live sessions: what a store announces after each committed change, and its fan-out to
the subscriptions of this process (graph/schema/subscriptions.py serves them)."""
