"""`localgpt serve`: the web app and the HTTP API (native JSON and OpenAI-compatible) in one process."""
