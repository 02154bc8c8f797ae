"""Service: the FastAPI app, storage, jobs and dashboard.

Not built yet (the service issue).
"""
