"""The web door into curry-coach: HTML pages (Jinja2 + htmx) and the JSON API."""
