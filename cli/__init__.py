"""consentreg's command line (installed as `consentreg_cli`): parse, open one unit of work, call a
service, print. Nothing else lives here."""
