"""Digest building (pure), rendering (Jinja2, HTML and text, .ics) and delivery (SMTP or outbox)."""
