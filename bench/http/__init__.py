"""The HTTP benchmark (issue 13): the project's uvicorn worker next to a raw ASGI floor, under
closed-loop load from ``wrk``, with the server's CPU per request read from /proc."""
