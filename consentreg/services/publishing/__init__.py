"""Publishing: the gate's decision and its record (gate), the publish use case that renders,
decides, records and delivers (releases) with its worker processes (worker_pool), whether each
release's file arrived (deliveries), finishing what a crash interrupted (repair), and the
take-down list (takedown)."""
