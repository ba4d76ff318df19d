"""Pure rules: no Flask, no database session. Clock and actor are arguments."""
