"""The audit trail: the hash-chained log, what each event kind writes, its replay, verification,
checkpoints and the auditor's views."""
