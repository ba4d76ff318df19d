"""Use cases: (session, actor, clock, args) -> result. They flush; the caller commits."""
