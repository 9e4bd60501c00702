"""`consentreg backup` and `consentreg restore`: an encrypted, consistent snapshot of the whole
register, restored into an empty register on either engine (docs/shared-server.md, "Backup and
restore"; the file format is described in `sealed`)."""
