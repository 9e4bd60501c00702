"""Publishing: the gate's decision and its record (gate), the publish use case that renders,
decides, records and delivers (releases), and its worker processes (worker_pool)."""
