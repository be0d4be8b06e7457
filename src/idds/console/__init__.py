"""The clinician console: server-rendered pages (Jinja2 templates, htmx vendored in
`static/`, live alarms over server-sent events) on the clinic's API and record. Plain forms
work without JavaScript. See docs/console.md."""
