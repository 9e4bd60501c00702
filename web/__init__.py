"""consentreg's staff web application (installed as `consentreg_web`): an entry point like the
command line. Routes parse the request, call one library function in one unit of work and render
a template; errors become HTTP statuses in one place (errors.py). docs/architecture.md, "The
web application", says how sessions, CSRF and throttling work."""
