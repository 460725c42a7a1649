"""Cold storage of old events (I9): files, their storage, and the baselines that stand for them."""
