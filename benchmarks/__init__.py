"""What a session costs a request, and how the in-memory store scales: ``python -m benchmarks``."""
